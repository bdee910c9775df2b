//! The compact verdict table printed after a run.

use crate::report::Finding;

/// Renders findings as an aligned text table:
/// `claim | subject | article says | theory | measured ± CI | verdict`,
/// followed by the test behind each verdict.
pub fn findings_table(findings: &[(String, Finding)]) -> String {
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
    out.push(String::new());
    let mut tests: Vec<String> = Vec::new();
    for (scenario, f) in findings {
        let entry = format!("  {scenario} {} {}: {}", f.claim, f.subject, f.test);
        if !tests.contains(&entry) {
            tests.push(entry);
        }
    }
    out.push("tests:".into());
    out.extend(tests);
    out.join("\n") + "\n"
}
