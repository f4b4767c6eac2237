use crate::common::Home;

fn decisions(h: &Home, sql_where: &str) -> i64 {
    h.count(&format!("SELECT count(*) FROM decisions WHERE {sql_where}"))
}

fn import_one(h: &Home, rows: &str) {
    std::fs::write(
        h.work.join("apps.csv"),
        format!(
            "ПІБ;Дата народження;Стать;РНОКПП;Паспорт;Категорія;Дохід;Документи;Пільга дійсна до\n{rows}"
        ),
    )
    .unwrap();
    let r = h.kartka(&[
        "--quiet",
        "import",
        "applicants",
        "--community",
        "Павлоград",
        "apps.csv",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

const AT_LIMIT: &str = "Коваленко Петро Іванович;28.02.1948;ч;1759013776;АК482913;Пенсіонер за віком;4660,00;пенсійне посвідчення, посвідчення;\n";

#[test]
fn a_january_limit_change_is_applied_by_rerunning_with_all() {
    let h = Home::new();
    // 4500 UAH: over the 2025 limit (4240), under the 2026 one (4660).
    import_one(&h, &AT_LIMIT.replace("4660,00", "4500,00"));
    let r = h.kartka(&["--json", "eligibility", "--as-of", "2025-12-31"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["ineligible"], 1);
    let r = h.kartka(&["--json", "eligibility", "--as-of", "2026-01-01"]);
    assert_eq!(
        r.json()["unchanged"],
        1,
        "without --all a decided application stands"
    );
    let r = h.kartka(&["--json", "eligibility", "--all", "--as-of", "2026-01-01"]);
    let v = r.json();
    assert_eq!(
        (v["decided"].as_u64(), v["eligible"].as_u64()),
        (Some(1), Some(1))
    );
    // History: two decisions, the second supersedes the first and records the limit it used.
    assert_eq!(decisions(&h, "1"), 2);
    assert_eq!(
        decisions(&h, "supersedes IS NOT NULL AND outcome = 'eligible'"),
        1
    );
    assert_eq!(
        decisions(
            &h,
            "parameters_id IN (SELECT id FROM decision_parameters WHERE json_extract(parameters, '$.income_limit_kopecks') = 466000)"
        ),
        1
    );
    assert_eq!(
        decisions(
            &h,
            "parameters_id IN (SELECT id FROM decision_parameters WHERE json_extract(parameters, '$.income_limit_kopecks') = 424000)"
        ),
        1
    );
    // Re-running changes nothing.
    let v = h
        .kartka(&["--json", "eligibility", "--all", "--as-of", "2026-01-02"])
        .json();
    assert_eq!(
        (v["decided"].as_u64(), v["unchanged"].as_u64()),
        (Some(0), Some(1))
    );
}

#[test]
fn losing_the_right_is_said_clearly() {
    let h = Home::new();
    import_one(&h, AT_LIMIT);
    let v = h
        .kartka(&["--json", "eligibility", "--as-of", "2026-03-01"])
        .json();
    assert_eq!(v["eligible"], 1);
    import_one(&h, &AT_LIMIT.replace("4660,00", "4660,01"));
    let r = h.kartka(&["eligibility", "--as-of", "2026-03-01"]);
    assert!(
        r.stderr.contains("LOST RIGHT: 10000001 is now ineligible"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("benefit-ended"), "{}", r.stderr);
}

#[test]
fn missing_documents_make_the_decision_incomplete_with_what_to_bring() {
    let h = Home::new();
    import_one(
        &h,
        &AT_LIMIT.replace("пенсійне посвідчення, посвідчення", "посвідчення"),
    );
    let v = h
        .kartka(&["--json", "eligibility", "--as-of", "2026-03-01"])
        .json();
    assert_eq!(v["incomplete"], 1);
    let r = h.kartka(&[
        "eligibility",
        "explain",
        "1759013776",
        "--as-of",
        "2026-03-01",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("FAIL documents"), "{}", r.stdout);
    assert!(
        r.stdout.contains("потрібно подати: пенсійне посвідчення"),
        "{}",
        r.stdout
    );
}

#[test]
fn the_workbook_has_a_summary_and_a_sheet_per_outcome() {
    use calamine::{Reader, open_workbook_auto};
    let h = Home::new();
    let r = h.kartka(&[
        "--quiet",
        "import",
        "applicants",
        "fixtures/applicants/office-2026-10.xlsx",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for (lang, summary) in [("uk", "Підсумок"), ("en", "Summary")] {
        let out = format!("d-{lang}.xlsx");
        let r = h.kartka(&[
            "--lang",
            lang,
            "eligibility",
            "--all",
            "--as-of",
            "2026-11-01",
            "--out",
            &out,
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let mut book = open_workbook_auto(h.work.join(&out)).unwrap();
        let names = book.sheet_names();
        assert_eq!(names.len(), 4, "{names:?}");
        assert_eq!(names[0], summary);
        let range = book.worksheet_range(summary).unwrap();
        let last = range.rows().next_back().unwrap();
        // The grand total is every person decided.
        assert_eq!(last[5].to_string(), "15", "{last:?}");
    }
}

#[test]
fn explain_of_an_unknown_person_is_66() {
    let h = Home::new();
    let r = h.kartka(&["eligibility", "explain", "99999999"]);
    assert_eq!(r.code, 66);
    assert!(
        r.stderr.contains("no person with social number"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_workbook_that_cannot_be_written_keeps_the_decisions_and_their_audit_entry() {
    let h = Home::new();
    import_one(&h, AT_LIMIT);
    let r = h.kartka(&[
        "eligibility",
        "--as-of",
        "2026-11-01",
        "--out",
        "no-such-folder/decisions.xlsx",
    ]);
    assert_eq!(r.code, 73, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("no-such-folder/decisions.xlsx: cannot write the workbook")
            && r.stderr.contains("decisions were kept"),
        "{}",
        r.stderr
    );
    // Nothing lost: the decision stands, and the export was recorded
    // before the workbook was attempted (K5).
    assert_eq!(decisions(&h, "outcome = 'eligible'"), 1);
    assert_eq!(
        h.count("SELECT count(*) FROM audit WHERE outcome = 'exported' AND detail LIKE 'decisions workbook%'"),
        1
    );
    let r = h.kartka(&["--json", "eligibility", "--as-of", "2026-11-01"]);
    assert_eq!(r.json()["unchanged"], 1, "{}", r.stderr);
}
