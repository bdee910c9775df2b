//! `stuck report` end to end: two small runs, then the report of their folder.

mod common;

use common::{SMALL, SMALL_SADDLE_ESCAPE, assert_one_line_error, stuck};

/// Counts of `<tag` openings and `</tag>` closings agree for every element the report writes
/// in pairs (a parse check on the structure we generate; no HTML parser is needed for it).
fn assert_balanced(html: &str) {
    for tag in [
        "html", "head", "body", "table", "tr", "td", "th", "figure", "h1", "h2", "h3", "p",
    ] {
        let open =
            html.matches(&format!("<{tag}>")).count() + html.matches(&format!("<{tag} ")).count();
        let close = html.matches(&format!("</{tag}>")).count();
        assert_eq!(open, close, "<{tag}>: {open} opened, {close} closed");
    }
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("<script"));
}

#[test]
fn report_holds_every_verdict_and_figure_of_the_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    stuck()
        .args(["hessian-signs", "--out", out])
        .args(SMALL)
        .assert()
        .success();
    stuck()
        .args(SMALL_SADDLE_ESCAPE)
        .args(["--out", out])
        .assert()
        .success();
    stuck().args(["report", out]).assert().success();

    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let (html, md, csv, tex) = (
        read("report.html"),
        read("report.md"),
        read("verdicts.csv"),
        read("verdicts.tex"),
    );
    assert_balanced(&html);

    // Every finding of every manifest is a row of verdicts.csv with the same verdict, and
    // its subject appears in the HTML and the Markdown.
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = rows.records().map(|r| r.unwrap()).collect();
    let mut findings = 0;
    let mut tested = std::collections::BTreeSet::new();
    for scenario in ["hessian-signs", "saddle-escape"] {
        let manifest: serde_json::Value =
            serde_json::from_str(&read(&format!("{scenario}.json"))).unwrap();
        // Provenance the report quotes: when, with what, by which command.
        let finished = manifest["finished_utc"].as_str().unwrap();
        assert!(
            finished.ends_with('Z') && finished.len() == 20,
            "{finished}"
        );
        assert!(manifest["rustc"].as_str().unwrap().starts_with("rustc "));
        let command: Vec<&str> = manifest["command_line"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert!(command.contains(&scenario), "{command:?}");
        assert!(md.contains(finished) && html.contains(finished));
        for f in manifest["findings"].as_array().unwrap() {
            findings += 1;
            let (claim, subject, verdict) = (
                f["claim"].as_str().unwrap(),
                f["subject"].as_str().unwrap(),
                f["verdict"].as_str().unwrap(),
            );
            assert!(
                rows.iter().any(|r| &r[0] == scenario
                    && &r[1] == claim
                    && &r[2] == subject
                    && &r[6] == verdict),
                "{scenario} {claim} {subject} {verdict} not in verdicts.csv"
            );
            let escaped = subject
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            assert!(html.contains(&escaped), "{subject} not in the HTML");
            assert!(
                md.contains(&subject.replace('|', "\\|")),
                "{subject} not in the Markdown"
            );
        }
        // Every figure the run wrote is embedded in the HTML and linked from the Markdown once
        // per claim the run has findings on, and the link resolves.
        let mut claims: Vec<&str> = manifest["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["claim"].as_str().unwrap())
            .collect();
        claims.sort_unstable();
        claims.dedup();
        tested.extend(claims.iter().map(|c| c.to_string()));
        for output in manifest["outputs"].as_array().unwrap() {
            let name = output.as_str().unwrap();
            if name.ends_with(".png") {
                let caption = format!("<figcaption>{name}</figcaption>");
                assert_eq!(html.matches(&caption).count(), claims.len(), "{name}");
                assert_eq!(
                    md.matches(&format!("]({name})")).count(),
                    claims.len(),
                    "{name}"
                );
                assert!(dir.path().join(name).is_file());
            }
        }
    }
    assert_eq!(rows.len(), findings);
    assert_eq!(
        html.matches("data:image/png;base64,").count(),
        md.matches("![").count()
    );

    // Claims without a run are said to be untested; C3 has no run here.
    assert!(md.contains("## C3") && md.contains("Not yet tested"));
    assert!(html.contains("id=\"C9\""));
    // LaTeX: one booktabs table per tested claim (C1, C2, C4 here), specials escaped.
    assert_eq!(tex.matches("\\toprule").count(), tested.len());
    assert_eq!(
        tex.matches("\\begin{table}").count(),
        tex.matches("\\end{table}").count()
    );
    assert!(!tex.contains(" & 5%"));
}

#[test]
fn report_of_a_folder_without_runs_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = stuck()
        .args(["report", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_one_line_error(&output, "empty folder", &["report:", "no stuck manifests"]);
    let output = stuck()
        .args(["report", "/nonexistent/stuck-folder"])
        .output()
        .unwrap();
    assert_one_line_error(&output, "missing folder", &["report:", "cannot read"]);
}
