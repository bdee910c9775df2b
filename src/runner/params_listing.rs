//! `stuck params`: a scenario's resolved parameters as TOML, each with its meaning and the rule
//! that checks it.

use toml::Table;

use super::{RunError, find_spec};
use crate::scenarios::params::allowed_values;
use crate::scenarios::{Experiment, ExperimentVisitor, dispatch};

/// The parameters of `scenario` under `profile` as a TOML file a user can edit and pass back
/// with `--config`: a header, then per parameter (in the order the scenario reads them) one
/// comment line with its meaning (from the spec's `[meanings]`), one with its rule, and the
/// `key = value` line.
pub fn params_listing(scenario: &str, profile: &str) -> Result<String, RunError> {
    let spec = find_spec(scenario)?;
    let table = spec.profile(profile)?;
    let name = spec.name.clone();
    let meanings = spec.meanings.clone();
    let rules = dispatch(spec, Rules { table: &table })
        .ok_or_else(|| RunError::Internal(format!("scenario {name} is not registered")))??;
    let mut text = format!(
        "# {name}, profile {profile}: every parameter, what it means and the rule `--set` and `--config` check.\n\
         # Edit and run with `stuck {name} --config FILE`; more in the README, `### {name}`.\n"
    );
    for (key, rule) in rules {
        let value = table
            .get(&key)
            .map_or_else(|| "(not set)".to_string(), ToString::to_string);
        let meaning = meanings.get(&key).ok_or_else(|| {
            RunError::Internal(format!("parameter `{key}` of {name} has no meaning"))
        })?;
        text.push_str(&format!("\n# {meaning}\n# {rule}\n{key} = {value}\n"));
    }
    Ok(text)
}

/// Reads a table through a scenario's `from_params`, keeping the rules it applied.
struct Rules<'a> {
    table: &'a Table,
}

impl ExperimentVisitor for Rules<'_> {
    type Output = Result<Vec<(String, String)>, RunError>;

    fn visit<E: Experiment>(self, _spec: crate::scenarios::spec::ScenarioSpec) -> Self::Output {
        let (read, rules) = allowed_values(|| E::from_params(self.table).map(|_| ()));
        read?;
        Ok(rules)
    }
}
