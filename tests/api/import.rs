//! The importer: every class of bad input gives one exact, located message and leaves the
//! database as it was; good input becomes a release, once.

use std::fs;
use std::path::Path;

use sanctuary_data::seed::{self, ImportFailure, ImportOutcome};

use crate::helpers::*;

/// Replace `from` with `to` in one file of a fixture copy.
fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} does not contain {from:?}");
    fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// Import the broken copy into a database that already holds the good fixture; the first
/// problem must be `expected`, and every table must keep its rows.
async fn assert_rejected(dir: &Path, expected: &str) {
    let test_db = fresh_db().await;
    import(&test_db.db, &fixture("small")).await;
    let before = counts(&test_db.db).await;
    let error = seed::import_dir(&test_db.db, dir, policy())
        .await
        .expect_err("the import must fail");
    let ImportFailure::Invalid(problems) = error else {
        panic!("expected validation problems, got {error}")
    };
    assert_eq!(
        problems.listed.first().map(|p| p.to_string()).as_deref(),
        Some(expected),
        "all problems:\n{problems}"
    );
    assert_eq!(
        counts(&test_db.db).await,
        before,
        "a failed import must change nothing"
    );
    // `check` reports the same thing without a database.
    let checked = seed::check_dir(dir, policy()).expect_err("check must fail too");
    assert_eq!(checked.listed[0].to_string(), expected);
}

#[tokio::test]
async fn bad_count_names_file_line_and_column_but_never_the_value() {
    // A malformed count may be a typo of the real (possibly small) count: the policy
    // forbids echoing it, so the message says what was expected instead.
    for (good, bad) in [
        (",19000,", ",19000.5,"),
        (",19000,", ",7.0,"),
        (",19000,", ",-7,"),
        (",19000,", ",+7,"),
        (",19000,", ",7 ,"),
        (",19000,", ",\"7,000\","),
    ] {
        let dir = fixture_copy("small");
        edit(dir.path(), "statistics.csv", good, bad);
        assert_rejected(
            dir.path(),
            r#"statistics.csv:2:8 (value): "(withheld: disclosure control)" — expected a whole number of 0 or more, written with digits only (no decimals, sign, spaces or separators)"#,
        )
        .await;
    }
}

#[tokio::test]
async fn a_short_statistics_row_does_not_echo_its_last_field() {
    // Cut after the value: the ragged-row message would otherwise quote the count.
    let dir = fixture_copy("small");
    edit(
        dir.path(),
        "statistics.csv",
        ",19000,exact,cards,reported,src-a,,in_period,none,\"19,000 for all of 2022\"",
        ",7",
    );
    let problems = seed::check_dir(dir.path(), policy()).unwrap_err();
    let text = problems.to_string();
    assert!(text.contains("statistics.csv:2:"), "{text}");
    assert!(!text.contains("\"7\""), "{text}");
    assert!(text.contains("(withheld: disclosure control)"), "{text}");
}

#[tokio::test]
async fn bad_date_is_rejected() {
    let dir = fixture_copy("small");
    edit(dir.path(), "events.csv", "2025-06-13", "2025-06-31");
    assert_rejected(
        dir.path(),
        r#"events.csv:3:3 (date): "2025-06-31" — expected a date as YYYY-MM-DD"#,
    )
    .await;
}

/// `/api/v1/events/facets` and `/api/v1/statistics/latest` are paths, so no row may have
/// them as its id: it could never be fetched by it.
#[tokio::test]
async fn an_id_the_api_uses_as_a_path_is_rejected() {
    for (word, file, from) in [
        ("facets", "events.csv", "alpha-launch,"),
        ("latest", "documents.csv", "alpha-code,"),
    ] {
        let dir = fixture_copy("small");
        edit(dir.path(), file, from, &format!("{word},"));
        assert_rejected(
            dir.path(),
            &format!(
                "{file}:2:1 (id): \"{word}\" — expected an id the API does not use as a path \
                 (/api/v1/<table>/{word} is taken); reserved ids: facets, latest"
            ),
        )
        .await;
    }
}

#[tokio::test]
async fn value_outside_its_enum_is_rejected() {
    let dir = fixture_copy("small");
    edit(dir.path(), "sources.csv", ",news", ",blog");
    assert_rejected(dir.path(), r#"sources.csv:3:7 (kind): "blog" — expected one of government, news, court, report, other"#).await;
}

#[tokio::test]
async fn unknown_column_is_rejected_so_no_person_level_field_slips_in() {
    let dir = fixture_copy("small");
    edit(
        dir.path(),
        "statistics.csv",
        ",source_wording\n",
        ",source_wording,applicant_name\n",
    );
    edit(
        dir.path(),
        "statistics.csv",
        "src-a,,in_period,none,\"19,000 for all of 2022\"\n",
        "src-a,,in_period,none,\"19,000 for all of 2022\",Jane Doe\n",
    );
    assert_rejected(
        dir.path(),
        r#"statistics.csv:1:17 (header): "applicant_name" — expected only the declared columns id,program,metric,period_start,period_end,period_inferred,basis,dimension,category,value,qualifier,source_wording,unit,status,source_id,note"#,
    )
    .await;
}

#[tokio::test]
async fn unknown_column_in_the_descriptor_is_rejected() {
    let dir = fixture_copy("small");
    edit(
        dir.path(),
        "datapackage.json",
        r#""name": "note""#,
        r#""name": "home_address""#,
    );
    let problems = seed::check_dir(dir.path(), policy()).unwrap_err();
    let first = problems.listed[0].to_string();
    assert!(first.starts_with("datapackage.json:"), "{first}");
    assert!(first.contains(r#"(resources[5].schema.fields[12]): "home_address" — expected only the allowed columns of statistics"#), "{first}");
}

#[tokio::test]
async fn missing_column_is_rejected() {
    let dir = fixture_copy("small");
    let path = dir.path().join("metrics.csv");
    fs::write(&path, "id,name,unit\ncards_issued,Cards issued,cards\n").unwrap();
    assert_rejected(
        dir.path(),
        r#"metrics.csv:1:4 (header): "" — expected the missing column description"#,
    )
    .await;
}

#[tokio::test]
async fn duplicated_column_is_rejected() {
    let dir = fixture_copy("small");
    let path = dir.path().join("metrics.csv");
    fs::write(
        &path,
        "id,name,description,unit,name\ncards_issued,Cards issued,x,cards,Again\n",
    )
    .unwrap();
    assert_rejected(
        dir.path(),
        r#"metrics.csv:1:5 (header): "name" — expected each column once"#,
    )
    .await;
}

#[tokio::test]
async fn ragged_row_is_rejected() {
    let dir = fixture_copy("small");
    edit(
        dir.path(),
        "programs.csv",
        "Another synthetic program.,src-b",
        "Another synthetic program.",
    );
    assert_rejected(dir.path(), r#"programs.csv:3:9 (row): "Another synthetic program." — expected 9 fields, as in the header (found 8)"#).await;
}

#[tokio::test]
async fn unclosed_quote_is_rejected() {
    let dir = fixture_copy("small");
    edit(
        dir.path(),
        "events.csv",
        "Beta ordinance,",
        "\"Beta ordinance,",
    );
    assert_rejected(dir.path(), r#"events.csv:4:6 (-): "Beta ordinance,Synthetic event.,src-b\n" — expected a closing quote before the end of the file"#).await;
}

#[tokio::test]
async fn invalid_utf8_is_rejected() {
    let dir = fixture_copy("small");
    let path = dir.path().join("metrics.csv");
    let mut bytes = b"id,name,description,unit\ncards_issued,Cards \xff issued,x,cards\n".to_vec();
    bytes.extend_from_slice(b"");
    fs::write(&path, bytes).unwrap();
    assert_rejected(
        dir.path(),
        "metrics.csv:2:2 (name): \"Cards \u{FFFD} issued\" — expected valid UTF-8 text",
    )
    .await;
}

#[tokio::test]
async fn empty_file_is_rejected() {
    let dir = fixture_copy("small");
    fs::write(dir.path().join("documents.csv"), "").unwrap();
    assert_rejected(
        dir.path(),
        r#"documents.csv:1:1 (header): "" — expected a header row with the columns id,program,title,kind,issuer,published_on,url,summary,source_id"#,
    )
    .await;
}

#[tokio::test]
async fn duplicate_key_names_both_lines() {
    let dir = fixture_copy("small");
    edit(dir.path(), "events.csv", "beta-ordinance,", "alpha-launch,");
    assert_rejected(
        dir.path(),
        r#"events.csv:4:1 (id): "alpha-launch" — expected a unique id; line 2 already has it"#,
    )
    .await;
}

#[tokio::test]
async fn dangling_foreign_key_is_rejected() {
    let dir = fixture_copy("small");
    edit(
        dir.path(),
        "documents.csv",
        "beta-statement,beta,",
        "beta-statement,gamma,",
    );
    assert_rejected(dir.path(), r#"documents.csv:3:2 (program): "gamma" — expected a key of programs (defined in programs.csv)"#).await;
}

#[tokio::test]
async fn many_problems_are_listed_up_to_100_then_counted() {
    let dir = fixture_copy("small");
    let mut text = String::from("id,name,description,unit\n");
    for i in 0..150 {
        text.push_str(&format!("Bad Id {i},n,d,cards\n"));
    }
    fs::write(dir.path().join("metrics.csv"), text).unwrap();
    let problems = seed::check_dir(dir.path(), policy()).unwrap_err();
    assert_eq!(problems.listed.len(), 100);
    assert_eq!(problems.total, 150);
    assert!(problems.to_string().contains("… and 50 more"), "{problems}");
}

#[tokio::test]
async fn a_leading_bom_is_accepted_and_does_not_change_the_release() {
    let plain = seed::check_dir(&fixture("small"), policy()).unwrap();
    let dir = fixture_copy("small");
    let path = dir.path().join("programs.csv");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(fs::read(&path).unwrap());
    fs::write(&path, bytes).unwrap();
    let with_bom = seed::check_dir(dir.path(), policy()).unwrap();
    assert_eq!(with_bom.programs.len(), 2);
    assert_eq!(with_bom.programs[0].slug, "alpha");
    assert_eq!(with_bom.id, plain.id, "a BOM is not content");
}

#[tokio::test]
async fn importing_identical_content_again_creates_nothing() {
    let test_db = fresh_db().await;
    let first = import(&test_db.db, &fixture("small")).await;
    let ImportOutcome::Created {
        release, seq: 1, ..
    } = first
    else {
        panic!("{first:?}")
    };
    let after_first = counts(&test_db.db).await;
    let second = import(&test_db.db, &fixture("small")).await;
    assert_eq!(
        second,
        ImportOutcome::AlreadyImported {
            release: release.clone(),
            seq: 1
        }
    );
    assert!(second.to_string().contains(&release));
    assert_eq!(counts(&test_db.db).await, after_first);
}

#[tokio::test]
async fn a_different_import_becomes_a_second_release_and_the_first_stays_readable() {
    use sanctuary_data::entity::statistic;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let test_db = fresh_db().await;
    let ImportOutcome::Created { release: first, .. } =
        import(&test_db.db, &fixture("small")).await
    else {
        panic!()
    };
    let dir = fixture_copy("small");
    edit(dir.path(), "statistics.csv", ",19000,", ",19001,");
    let ImportOutcome::Created {
        release: second,
        seq,
        ..
    } = import(&test_db.db, dir.path()).await
    else {
        panic!()
    };
    assert_ne!(first, second);
    assert_eq!(seq, 2);
    let value_in = |release: String| {
        let db = test_db.db.clone();
        async move {
            statistic::Entity::find_by_id((release, "alpha-2022".to_owned()))
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .value
        }
    };
    assert_eq!(value_in(first.clone()).await, Some(19000));
    assert_eq!(value_in(second.clone()).await, Some(19001));
    let rows_in_first = statistic::Entity::find()
        .filter(statistic::Column::ReleaseId.eq(first))
        .all(&test_db.db)
        .await
        .unwrap();
    assert_eq!(rows_in_first.len(), 3);
}

#[tokio::test]
async fn the_seed_data_imports_without_errors() {
    let test_db = fresh_db().await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seed-data");
    let outcome = import(&test_db.db, &dir).await;
    assert!(
        matches!(outcome, ImportOutcome::Created { seq: 1, .. }),
        "{outcome:?}"
    );
    let [
        releases,
        sources,
        programs,
        metrics,
        events,
        documents,
        statistics,
    ] = counts(&test_db.db).await;
    assert_eq!(releases, 1);
    assert!(
        programs >= 8,
        "CityKey and the comparable programs: {programs}"
    );
    assert!(sources >= 20 && metrics >= 1 && events >= 30 && documents >= 15 && statistics >= 15);
}

#[test]
fn the_seed_descriptor_declares_the_importers_table_schemas() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(sanctuary_data::export::SEED_DESCRIPTOR_PATH);
    let committed = fs::read_to_string(&path).unwrap();
    let expected = sanctuary_data::export::seed_descriptor(&committed).unwrap();
    assert!(
        committed == expected,
        "seed-data/datapackage.json declares Table Schemas that differ from the importer's \
         allow-list: run `cargo run -- export` and commit the result"
    );
    let json: serde_json::Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(json["licenses"][0]["name"], "CC-BY-4.0");
    assert_eq!(json["sanctuary:disclosure"]["min_cell"], 11);
    let statistics = json["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "statistics")
        .unwrap();
    assert_eq!(
        statistics["schema"]["foreignKeys"][0]["reference"]["resource"],
        "programs"
    );
    assert_eq!(statistics["schema"]["primaryKey"][0], "id");
}

#[tokio::test]
async fn the_seed_data_records_the_june_13_and_14_conflict_instead_of_picking_one() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seed-data");
    let events = fs::read_to_string(dir.join("events.csv")).unwrap();
    let suspension = events
        .lines()
        .find(|l| l.starts_with("citykey-2025-online-portal-suspended,"))
        .expect("the June 2025 suspension is in the CityKey timeline");
    assert!(
        suspension.contains("13 June 2025") && suspension.contains("14 June 2025"),
        "{suspension}"
    );
}

#[tokio::test]
async fn rows_get_positions_in_canonical_order() {
    let bundle = seed::check_dir(&fixture("small"), policy()).unwrap();
    let events: Vec<_> = bundle
        .events
        .iter()
        .map(|e| (e.position, e.id.as_str()))
        .collect();
    assert_eq!(
        events,
        vec![
            (1, "beta-ordinance"),
            (2, "alpha-launch"),
            (3, "alpha-pause")
        ]
    );
}

#[tokio::test]
async fn the_release_id_depends_on_published_content_not_on_file_layout() {
    let plain = seed::check_dir(&fixture("small"), policy()).unwrap();
    // Same rows in another order, with CRLF line endings and needless quotes.
    let dir = fixture_copy("small");
    let text = fs::read_to_string(dir.path().join("events.csv")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1..].reverse();
    let shuffled = lines
        .join("\r\n")
        .replace("alpha-launch,", "\"alpha-launch\",")
        + "\r\n";
    fs::write(dir.path().join("events.csv"), shuffled).unwrap();
    assert_eq!(seed::check_dir(dir.path(), policy()).unwrap().id, plain.id);
    // A published value changes the id; so does k.
    edit(dir.path(), "statistics.csv", ",24000,", ",24001,");
    assert_ne!(seed::check_dir(dir.path(), policy()).unwrap().id, plain.id);
    let k12 = sanctuary_data::disclosure::Policy::new(12).unwrap();
    assert_ne!(
        seed::check_dir(&fixture("small"), k12).unwrap().id,
        plain.id
    );
}

#[tokio::test]
async fn a_blank_line_is_rejected_with_its_line_number() {
    let dir = fixture_copy("small");
    let path = dir.path().join("statistics.csv");
    let text = fs::read_to_string(&path).unwrap();
    let (header, rows) = text.split_once('\n').unwrap();
    fs::write(&path, format!("{header}\n\n{rows}")).unwrap();
    assert_rejected(
        dir.path(),
        r#"statistics.csv:2:2 (row): "" — expected 16 fields, as in the header (found 1)"#,
    )
    .await;
}

#[tokio::test]
async fn ten_megabytes_of_blank_lines_stop_at_the_row_limit_with_a_clear_message() {
    let dir = fixture_copy("small");
    let path = dir.path().join("statistics.csv");
    let header = fs::read_to_string(&path)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let mut bytes = format!("{header}\n").into_bytes();
    bytes.resize(bytes.len() + 10 * 1024 * 1024, b'\n');
    fs::write(&path, bytes).unwrap();
    let problems = seed::check_dir(dir.path(), policy()).unwrap_err();
    assert_eq!(problems.listed.len(), 100);
    assert_eq!(
        problems.listed[0].to_string(),
        r#"statistics.csv:2:2 (row): "" — expected 16 fields, as in the header (found 1)"#
    );
    // Reading stops at the limit: the rest of the file is never looked at.
    assert_eq!(problems.total, seed::MAX_ROWS + 1, "{problems}");
    assert!(
        problems.to_string().ends_with(&format!(
            "{} problem(s); nothing was imported",
            seed::MAX_ROWS + 1
        )),
        "{problems}"
    );
}

#[tokio::test]
async fn a_line_longer_than_a_mebibyte_is_rejected_without_reading_on() {
    let dir = fixture_copy("small");
    let path = dir.path().join("events.csv");
    let mut bytes = fs::read(&path).unwrap();
    bytes.extend(std::iter::repeat_n(b'x', 3 * 1024 * 1024));
    fs::write(&path, bytes).unwrap();
    let problems = seed::check_dir(dir.path(), policy()).unwrap_err();
    let first = problems.listed[0].to_string();
    assert!(
        first.starts_with("events.csv:5:1 (-): \"xxxx")
            && first.ends_with(
                "expected a record of at most 1 MiB (a missing line break or an unclosed quote?)"
            ),
        "{problems}"
    );
    assert_eq!(problems.total, 1, "{problems}");
}

/// Reading the earlier releases is not bound by the requests' statement deadline (5 s): at
/// a million rows it takes longer, and PostgreSQL cancelled it, so a second million-row
/// release could not be imported. Here a lock held for longer than the deadline makes
/// the read wait as long as a big table would.
#[tokio::test]
async fn reading_earlier_releases_outlasts_the_request_statement_deadline() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let test_db = fresh_db().await;
    if test_db.db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return; // SQLite has no server-side statement deadline.
    }
    import(&test_db.db, &fixture("small")).await;
    let blocker = sanctuary_data::db::connect(&test_db.url).await.unwrap();
    let lock = blocker.begin().await.unwrap();
    lock.execute_unprepared("LOCK TABLE statistics IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let release_later = async {
        tokio::time::sleep(
            sanctuary_data::db::STATEMENT_TIMEOUT + std::time::Duration::from_secs(1),
        )
        .await;
        lock.rollback().await.unwrap();
    };
    let (earlier, ()) = tokio::join!(seed::earlier_releases(&test_db.db), release_later);
    earlier.expect("the earlier releases are read once the lock is gone");
}

/// On PostgreSQL an import ends with `VACUUM (ANALYZE)` of the statistics, so the first
/// requests after it plan with fresh statistics and count from the index alone (issue #12).
#[tokio::test]
async fn an_import_leaves_postgresql_statistics_vacuumed_and_analysed() {
    use sea_orm::ConnectionTrait;
    let test_db = fresh_db().await;
    if test_db.db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return; // SQLite's planner needs no statistics for these queries.
    }
    import(&test_db.db, &fixture("small")).await;
    let row = test_db
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT last_vacuum IS NOT NULL AS vacuumed, last_analyze IS NOT NULL AS analysed \
             FROM pg_stat_user_tables WHERE relname = 'statistics'",
        ))
        .await
        .unwrap()
        .unwrap();
    let vacuumed: bool = row.try_get("", "vacuumed").unwrap();
    let analysed: bool = row.try_get("", "analysed").unwrap();
    assert!(
        vacuumed && analysed,
        "vacuumed {vacuumed}, analysed {analysed}"
    );
}

/// A statistic naming a program, metric or source its release does not hold is refused:
/// by SQLite's foreign keys as the row is written, and on PostgreSQL (which has no
/// foreign keys on `statistics`: the importer checks references once per import instead
/// of by a trigger per row) by the importer's check, which fails the import's
/// transaction. Inserted directly, past the importer's own validation, as a bug in that
/// validation would.
#[tokio::test]
async fn a_statistic_with_a_dangling_reference_is_refused() {
    use sanctuary_data::entity::statistic;
    use sea_orm::{
        ActiveModelTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel,
        TransactionTrait,
    };
    let test = fresh_db().await;
    let db = &test.db;
    let ImportOutcome::Created { release, .. } = import(db, &fixture("small")).await else {
        panic!("the fixture imports");
    };
    if db.get_database_backend() == DbBackend::Postgres {
        // Every foreign key of `statistics` is gone: one left behind (a constraint name the
        // migration did not match) would still cost a trigger per row.
        let left: i64 = db
            .query_one_raw(sea_orm::Statement::from_string(
                DbBackend::Postgres,
                "SELECT COUNT(*) AS n FROM pg_constraint \
                 WHERE conrelid = 'statistics'::regclass AND contype = 'f'",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get("", "n")
            .unwrap();
        assert_eq!(left, 0, "foreign keys left on statistics");
    }
    let row = statistic::Entity::find().one(db).await.unwrap().unwrap();
    for (column, dangling) in [
        ("program", "no-such-program"),
        ("metric", "no-such-metric"),
        ("source", "no-such-source"),
    ] {
        let mut model = row.clone();
        model.id = format!("dangling-{column}");
        model.position = i32::MAX;
        match column {
            "program" => model.program = dangling.to_owned(),
            "metric" => model.metric = dangling.to_owned(),
            _ => model.source_id = dangling.to_owned(),
        }
        let txn = db.begin().await.unwrap();
        // The import's check passes on the release as imported.
        seed::check_statistic_references(&txn, &release)
            .await
            .expect("the imported release holds every reference");
        let inserted = model.into_active_model().insert(&txn).await;
        match db.get_database_backend() {
            DbBackend::Postgres => {
                inserted.expect("PostgreSQL stores the row; the import's check refuses it");
                let error = seed::check_statistic_references(&txn, &release)
                    .await
                    .err()
                    .unwrap_or_else(|| panic!("a dangling {column} is found"))
                    .to_string();
                assert!(error.contains(&format!("dangling-{column}")), "{error}");
            }
            _ => {
                let error = inserted.expect_err("SQLite refuses the row").to_string();
                assert!(error.contains("FOREIGN KEY"), "{error}");
            }
        }
        txn.rollback().await.unwrap();
    }
}

/// The importer itself refuses a release whose statistics name a program it does not
/// hold, and leaves the database as it was: a trigger (test-only) rewrites every
/// statistic's program as it is written, after the importer's validation passed. On
/// PostgreSQL only the importer's own check (`seed::check_statistic_references`) can
/// catch it; on SQLite the foreign key refuses the rewritten row.
#[tokio::test]
async fn an_import_whose_statistics_lose_their_program_on_the_way_in_changes_nothing() {
    use sea_orm::{ConnectionTrait, DbBackend};
    let test = fresh_db().await;
    let db = &test.db;
    let triggers: &[&str] = match db.get_database_backend() {
        DbBackend::Postgres => &[
            "CREATE FUNCTION dangle() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN NEW.program := 'no-such-program'; RETURN NEW; END $$",
            "CREATE TRIGGER dangle BEFORE INSERT ON statistics \
             FOR EACH ROW EXECUTE FUNCTION dangle()",
        ],
        _ => &["CREATE TRIGGER dangle AFTER INSERT ON statistics BEGIN \
                UPDATE statistics SET program = 'no-such-program' \
                WHERE release_id = NEW.release_id AND id = NEW.id; END"],
    };
    for sql in triggers {
        db.execute_unprepared(sql).await.unwrap();
    }
    let before = counts(db).await;
    let error = seed::import_dir(db, &fixture("small"), policy())
        .await
        .expect_err("a statistic naming no program of its release is refused");
    assert!(
        matches!(error, ImportFailure::Database(_)),
        "refused by the database or the importer's check, not by validation: {error}"
    );
    assert_eq!(
        counts(db).await,
        before,
        "a failed import must change nothing"
    );
}
