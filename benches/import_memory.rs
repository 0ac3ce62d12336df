//! Peak memory of the importer on a large input: writes a synthetic release whose
//! statistics.csv is about 200 MB (1.44 million rows: 100 programs x 300 quarters x 8
//! metrics x 6 rows, a total plus two breakdowns that add up to it), then runs
//! `sanctuary-data check DIR` and `sanctuary-data import DIR` (into a fresh SQLite file)
//! under `/usr/bin/time -v` and reports each one's peak resident memory. Exits non-zero
//! if either exceeds the 600 MB budget. Linux only (GNU time).
//!
//! Run: `cargo bench --bench import_memory` (add `--profile dev` to skip a release
//! build; memory is the same). Set `IMPORT_MEMORY_PROGRAMS` for a smaller or larger
//! input (default 100 programs, about 200 MB). The data is written to a temporary
//! directory and deleted afterwards.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;

/// The budget: peak resident memory for a 200 MB input.
const BUDGET_KB: u64 = 600 * 1024;
const PERIODS: usize = 300;
const METRICS: usize = 8;

fn main() {
    let programs: usize = std::env::var("IMPORT_MEMORY_PROGRAMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("release");
    let bytes = write_release(&dir, programs);
    println!(
        "input: {} statistics rows, statistics.csv {:.0} MB",
        programs * PERIODS * METRICS * 6,
        bytes as f64 / 1e6
    );
    let binary = env!("CARGO_BIN_EXE_sanctuary-data");
    let url = format!(
        "sqlite://{}?mode=rwc",
        work.path().join("bench.db").display()
    );
    let mut over_budget = false;
    for command in ["check", "import"] {
        let output = Command::new("/usr/bin/time")
            .arg("-v")
            .arg(binary)
            .arg(command)
            .arg(&dir)
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "warn")
            .output()
            .expect("GNU time at /usr/bin/time (apt-get install time)");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let field = |name: &str| {
            stderr
                .lines()
                .find_map(|l| l.trim().strip_prefix(name))
                .map(str::trim)
                .unwrap_or("?")
                .to_owned()
        };
        let peak_kb: u64 = field("Maximum resident set size (kbytes):")
            .parse()
            .unwrap_or(u64::MAX);
        assert!(
            output.status.success(),
            "{command} failed:\n{}\n{stderr}",
            String::from_utf8_lossy(&output.stdout)
        );
        println!(
            "{command}: peak resident memory {} MB, wall clock {}",
            peak_kb / 1024,
            field("Elapsed (wall clock) time (h:mm:ss or m:ss):")
        );
        over_budget |= peak_kb > BUDGET_KB;
    }
    if over_budget {
        eprintln!("over the budget of {} MB", BUDGET_KB / 1024);
        std::process::exit(1);
    }
}

/// Write a valid release directory; returns the size of statistics.csv.
fn write_release(dir: &Path, programs: usize) -> u64 {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/synthetic-breakdowns");
    std::fs::create_dir_all(dir).unwrap();
    for file in [
        "datapackage.json",
        "sources.csv",
        "events.csv",
        "documents.csv",
    ] {
        std::fs::copy(example.join(file), dir.join(file)).unwrap();
    }
    // The breakdowns written below, declared.
    let descriptor = dir.join("datapackage.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&descriptor).unwrap()).unwrap();
    json["sanctuary:dimensions"] = serde_json::json!([
        {"name": "region", "categories": ["north", "south"]},
        {"name": "age_group", "categories": ["under-18", "18-64", "65-plus"]},
    ]);
    std::fs::write(&descriptor, json.to_string()).unwrap();
    let mut text = String::from(
        "slug,name,jurisdiction,administered_by,launched_on,status,website,description,source_id\n",
    );
    for p in 0..programs {
        writeln!(
            text,
            "program-{p:03},Program {p} (SYNTHETIC),Synthetic City,Synthetic Clerk,,unknown,,A made-up program.,synthetic"
        )
        .unwrap();
    }
    std::fs::write(dir.join("programs.csv"), text).unwrap();
    let mut text = String::from("id,name,description,unit\n");
    for m in 0..METRICS {
        writeln!(
            text,
            "metric_{m:02},Metric {m} (synthetic),Made-up counts.,cards"
        )
        .unwrap();
    }
    std::fs::write(dir.join("metrics.csv"), text).unwrap();

    let path = dir.join("statistics.csv");
    let mut out = BufWriter::new(std::fs::File::create(&path).unwrap());
    out.write_all(b"id,program,metric,period_start,period_end,dimension,category,value,qualifier,unit,status,source_id,note,basis,period_inferred,source_wording\n").unwrap();
    let quarters = [
        ("01-01", "03-31"),
        ("04-01", "06-30"),
        ("07-01", "09-30"),
        ("10-01", "12-31"),
    ];
    let mut seed: u64 = 20240101;
    let mut random = |below: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % below
    };
    for p in 0..programs {
        for period in 0..PERIODS {
            let year = 2000 + period / 4;
            let (start, end) = quarters[period % 4];
            for m in 0..METRICS {
                let total = 3_000 + random(50_000) as i64;
                let north = 100 + random(total as u64 - 200) as i64;
                let under_18 = total / 5;
                let adults = total / 2;
                let family = format!("program-{p:03}-{year}q{}-metric-{m:02}", period % 4 + 1);
                for (dimension, category, value) in [
                    ("total", "all", total),
                    ("region", "north", north),
                    ("region", "south", total - north),
                    ("age_group", "under-18", under_18),
                    ("age_group", "18-64", adults),
                    ("age_group", "65-plus", total - under_18 - adults),
                ] {
                    writeln!(
                        out,
                        "{family}-{}-{category},program-{p:03},metric_{m:02},{year}-{start},{year}-{end},{dimension},{category},{value},exact,cards,estimated,synthetic,SYNTHETIC,in_period,none,",
                        dimension.replace('_', "-")
                    )
                    .unwrap();
                }
            }
        }
    }
    out.flush().unwrap();
    std::fs::metadata(&path).unwrap().len()
}
