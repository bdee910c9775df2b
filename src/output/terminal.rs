//! The compact verdict table printed after a run.

use crate::report::Finding;

/// The width to fit the verdict table to: the terminal's columns when standard output is a
/// terminal, `None` (full width) when it is piped to a file.
pub fn output_width() -> Option<usize> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return None;
    }
    terminal_size::terminal_size().map(|(terminal_size::Width(w), _)| usize::from(w))
}

/// Renders findings as an aligned text table
/// (`scenario | claim | subject | article says | theory | measured [CI] | verdict`) or, when
/// that is wider than `width`, as blocks of wrapped lines (verdict and subject, then article,
/// theory and measurement, indented); then each distinct test once per scenario and claim.
///
/// ```
/// use stuck::output::findings_table;
/// use stuck::report::{Finding, Verdict};
/// let f = Finding {
///     claim: "C1".into(), subject: "coin".into(), article: "2^-n".into(),
///     theory: "exact".into(), measured: "0.25 [0.24, 0.26]".into(),
///     verdict: Verdict::Supported, test: "binomial test".into(),
/// };
/// let narrow = findings_table(&[("hessian-signs".into(), f)], Some(30));
/// assert!(narrow.lines().all(|l| l.chars().count() <= 30));
/// ```
pub fn findings_table(findings: &[(String, Finding)], width: Option<usize>) -> String {
    let table = wide_table(findings);
    let fits = |text: &str| width.is_none_or(|w| text.lines().all(|l| l.chars().count() <= w));
    let mut out = if fits(&table) {
        table
    } else {
        blocks(findings, width.unwrap_or(100).max(20))
    };
    out.push_str("\ntests:\n");
    let mut tests: Vec<String> = Vec::new();
    for (scenario, f) in findings {
        let entry = format!("{scenario} {}: {}", f.claim, f.test);
        if !tests.contains(&entry) {
            tests.push(entry);
        }
    }
    for entry in tests {
        out.push_str(&wrap(&entry, width, "  ", "    "));
    }
    out
}

/// Greedy word wrap of `text` to `width` columns (no limit when `None`), the first line
/// indented by `first`, the others by `rest`; ends with a newline.
fn wrap(text: &str, width: Option<usize>, first: &str, rest: &str) -> String {
    let limit = width.unwrap_or(usize::MAX);
    let mut lines = vec![first.to_string()];
    for word in text.split_whitespace() {
        let indent = if lines.len() == 1 { first } else { rest };
        let current = lines.last().expect("at least one line");
        let empty = current.len() == indent.len();
        if !empty && current.chars().count() + 1 + word.chars().count() > limit {
            lines.push(format!("{rest}{word}"));
        } else {
            let current = lines.last_mut().expect("at least one line");
            if !empty {
                current.push(' ');
            }
            current.push_str(word);
        }
    }
    lines.join("\n") + "\n"
}

/// One block per finding: `verdict  scenario claim subject`, then the three numbers.
fn blocks(findings: &[(String, Finding)], width: usize) -> String {
    let mut out = String::new();
    for (scenario, f) in findings {
        let head = format!("[{}] {scenario} {} {}", f.verdict, f.claim, f.subject);
        out.push_str(&wrap(&head, Some(width), "", "    "));
        for (label, text) in [
            ("article:", &f.article),
            ("theory:", &f.theory),
            ("measured:", &f.measured),
        ] {
            out.push_str(&wrap(
                &format!("{label} {text}"),
                Some(width),
                "    ",
                "      ",
            ));
        }
    }
    out
}

/// The aligned one-row-per-finding table.
fn wide_table(findings: &[(String, Finding)]) -> String {
    let header = [
        "scenario",
        "claim",
        "subject",
        "article says",
        "theory",
        "measured [CI]",
        "verdict",
    ];
    let rows: Vec<[String; 7]> = findings
        .iter()
        .map(|(scenario, f)| {
            [
                scenario.clone(),
                f.claim.clone(),
                f.subject.clone(),
                f.article.clone(),
                f.theory.clone(),
                f.measured.clone(),
                f.verdict.to_string(),
            ]
        })
        .collect();
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([header[i].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join(" | ")
            .trim_end()
            .to_string()
    };
    let mut out = vec![line(header.to_vec())];
    out.push(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-"),
    );
    out.extend(
        rows.iter()
            .map(|r| line(r.iter().map(String::as_str).collect())),
    );
    out.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Verdict;

    fn finding(subject: &str, measured: &str) -> (String, Finding) {
        (
            "hessian-signs".into(),
            Finding {
                claim: "C1".into(),
                subject: subject.into(),
                article: "P(min, n=100) = 2^-100 = 10^-30.1".into(),
                theory: "10^-1192.8 (leading order -theta n^2, theta = ln3/4 (Dean-Majumdar 2006))"
                    .into(),
                measured: measured.into(),
                verdict: Verdict::SupportedWithCorrection,
                test: "z test of ln P against the exact value, Bonferroni-corrected".into(),
            },
        )
    }

    #[test]
    fn narrow_terminals_get_wrapped_blocks_and_pipes_the_full_table() {
        let findings = vec![
            finding("goe", "ln P = -2782.21 +- 2.41 (splitting, 16 runs)"),
            finding(
                "coin",
                "2.45e-4 [2.42e-4, 2.49e-4] (24542 of 100000000 samples)",
            ),
        ];
        let narrow = findings_table(&findings, Some(80));
        assert!(narrow.lines().all(|l| l.chars().count() <= 80), "{narrow}");
        assert!(narrow.contains("[supported-with-correction] hessian-signs C1 goe"));
        assert!(narrow.contains("measured: ln P = -2782.21"));
        let full = findings_table(&findings, None);
        assert!(full.lines().any(|l| l.chars().count() > 100));
        assert!(full.starts_with("scenario"));
        // The test is stated once for the claim, not once per subject.
        for text in [&narrow, &full] {
            assert_eq!(text.matches("z test of ln P").count(), 1, "{text}");
        }
    }
}
