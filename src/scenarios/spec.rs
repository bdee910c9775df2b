//! The scenario description files `scenarios/<name>.toml`, embedded in the binary.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Table;

use super::params::{ParamError, apply_overrides, parse_toml};

/// What `scenarios/<name>.toml` declares: the claims tested, what is measured, the
/// statistical test, and one parameter table per profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    /// The scenario's command name, e.g. `hessian-signs`.
    pub name: String,
    /// Claim ids from CLAIMS.md, e.g. `["C1", "C2"]`.
    pub claims: Vec<String>,
    /// One line on what is measured.
    pub summary: String,
    /// A paragraph for `--help`.
    pub description: String,
    /// The statistical test behind the verdict and its level.
    pub test: String,
    /// The parameter of the `bench` profile that `stuck bench` multiplies by the thread count
    /// for weak scaling.
    pub bench_scaling: String,
    /// What each parameter means, with its unit (`[meanings]`): printed by `stuck params`
    /// above the parameter's rule; a test checks that every parameter a profile reads has one.
    pub meanings: BTreeMap<String, String>,
    /// Parameter tables by profile name (`quick`, `paper`, `bench`); a profile with
    /// `extends = "<profile>"` is that profile with its own values laid over it.
    pub profiles: Table,
}

impl ScenarioSpec {
    /// Parses a spec file.
    pub fn parse(text: &str, file: &str) -> Result<ScenarioSpec, ParamError> {
        let table = parse_toml(text, file)?;
        table
            .try_into()
            .map_err(|e: toml::de::Error| ParamError::MalformedToml {
                file: file.to_string(),
                line: 1,
                message: e.message().trim().replace('\n', " "),
            })
    }

    /// The parameter table of a profile, with `extends` resolved (one level: the base must
    /// be a complete profile).
    pub fn profile(&self, profile: &str) -> Result<Table, ParamError> {
        let mut table = self.own_profile(profile)?;
        match table.remove("extends") {
            None => Ok(table),
            Some(toml::Value::String(base)) => {
                let mut resolved = self.own_profile(&base)?;
                apply_overrides(&self.name, &mut resolved, table)?;
                Ok(resolved)
            }
            Some(other) => Err(ParamError::Invalid {
                key: format!("profiles.{profile}.extends"),
                expected: "must name another profile".into(),
                got: other.to_string(),
            }),
        }
    }

    fn own_profile(&self, profile: &str) -> Result<Table, ParamError> {
        match self.profiles.get(profile) {
            Some(toml::Value::Table(t)) => Ok(t.clone()),
            _ => Err(ParamError::UnknownProfile {
                profile: profile.to_string(),
                scenario: self.name.clone(),
                known: self.profiles.keys().cloned().collect::<Vec<_>>().join(", "),
            }),
        }
    }
}
