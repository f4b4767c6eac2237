//! `kartka import applicants` fed by an attacker: photo cells that reach for
//! files outside the spreadsheet's folder, workbooks built to exhaust memory
//! (shared-string amplification, zip bombs, entity expansion, repeated
//! cells), giant cells; and the UTF-16 text Excel saves as "Unicode Text".
//! Each run is measured: its peak resident memory, the workbook reader
//! children's included, stays under a stated bound.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Home, Run};

/// The most memory an import may take on any hostile file here: the
/// reader child's limit (2 GiB for a small file, `intake::isolate`) and a
/// margin; the parent streams rows, so it stays far below.
const TREE_BOUND_MIB: u64 = 2048 + 64;

/// The most memory an import of a hostile `.xlsx` may take: the parent
/// holds only the rows in flight and the child a cut copy of each cell.
const XLSX_BOUND_MIB: u64 = 512;

/// Runs `cmd` (a `kartka` command) to its end, killing it after `limit`,
/// and returns its result and the peak resident memory in MiB of it or of
/// its largest workbook reader child, as it reports them under
/// `KARTKA_TIMINGS` (its own `VmHWM`, and `getrusage` of its children: a
/// process forked from this big test process would carry this one's size).
fn measured(cmd: &mut Command, limit: Duration) -> (Run, u64) {
    cmd.env("KARTKA_TIMINGS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let started = Instant::now();
    let mut killed = false;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit && !killed {
            child.kill().unwrap();
            killed = true;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = String::from_utf8_lossy(&err.join().unwrap()).into_owned();
    assert!(!killed, "still running after {limit:?} (killed): {stderr}");
    let peak = stderr
        .lines()
        .find_map(|l| l.strip_prefix("memory: peak "))
        .map(|l| {
            l.split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse::<u64>().ok())
                .max()
                .unwrap()
        })
        .unwrap_or_else(|| panic!("no memory line: {stderr}"));
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
        stderr,
    };
    (run, peak)
}

/// `kartka --json import applicants FILES`, measured.
fn import(h: &Home, files: &[&str]) -> (Run, u64) {
    let mut cmd = h.command();
    cmd.args(["--json", "import", "applicants"]).args(files);
    measured(&mut cmd, Duration::from_secs(120))
}

/// The rejects file's rows, as header → cell maps.
fn rejects(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM for Excel");
    let mut r = csv::Reader::from_reader(&bytes[3..]);
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .map(String::from)
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

// ---------------------------------------------------------------- photos

/// The header of fixtures/intake/clerk-2026-11.csv with a photo column, and
/// its valid row (Коваленко) with `photo` in it.
fn clerk_csv(photos: &[&str]) -> String {
    let text =
        std::fs::read_to_string(crate::common::repo().join("fixtures/intake/clerk-2026-11.csv"))
            .unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().trim_start_matches('\u{feff}');
    let valid = lines.next().unwrap();
    let mut out = format!("{header};Фото\r\n");
    for p in photos {
        out.push_str(&format!("{valid};{p}\r\n"));
    }
    out
}

/// CRC-32 (IEEE), as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG whose header says `w`×`h` pixels, with one tiny IDAT: what a
/// decoder sizes its buffer from.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(
        &mut png,
        b"IDAT",
        &miniz_oxide::deflate::compress_to_vec_zlib(&[0; 64], 6),
    );
    chunk(&mut png, b"IEND", &[]);
    png
}

/// A photo cell naming a file outside the folder, a link, a FIFO, a device
/// or a folder is refused in the same words whether or not something is
/// there; nothing from outside reaches the home; a FIFO does not hang the
/// run (it holds the home lock); the good photo beside them is stored.
#[test]
fn photo_cells_reach_only_regular_files_inside_the_folder() {
    let h = Home::new();
    let drop = h.work.join("drop");
    let outside = h.work.join("outside");
    std::fs::create_dir_all(drop.join("photos")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::copy(h.fixture("photos/bondar.png"), drop.join("photos/ok.png")).unwrap();
    std::fs::copy(
        h.fixture("photos/kovalenko.jpg"),
        outside.join("secret.jpg"),
    )
    .unwrap();
    std::os::unix::fs::symlink("../outside/secret.jpg", drop.join("link.jpg")).unwrap();
    std::os::unix::fs::symlink("../outside", drop.join("dirlink")).unwrap();
    std::os::unix::fs::symlink("ok.png", drop.join("photos/inner-link.png")).unwrap();
    let fifo = Command::new("mkfifo")
        .arg(drop.join("fifo.jpg"))
        .status()
        .unwrap();
    assert!(fifo.success());
    let refused = [
        "/etc/shadow",
        "/etc/no-such-file",
        "/dev/zero",
        "../outside/secret.jpg",
        "../outside/missing.jpg",
        "photos/../../outside/secret.jpg",
        "link.jpg",
        "dirlink/secret.jpg",
        "photos/inner-link.png",
        "fifo.jpg",
        "photos",
        "missing.jpg",
    ];
    // The good photo, and the same as Windows writes its path.
    let mut names = vec!["photos/ok.png", "photos\\ok.png"];
    names.extend(refused);
    std::fs::write(drop.join("заяви.csv"), clerk_csv(&names)).unwrap();

    let (r, _) = import(&h, &["drop/заяви.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["read"], names.len());
    assert_eq!(v["inserted"], 1);
    assert_eq!(v["unchanged"], 1);
    assert_eq!(v["rejected"], refused.len());
    let rows = rejects(&drop.join("заяви.rejects.csv"));
    assert_eq!(rows.len(), refused.len());
    let mut said = std::collections::BTreeSet::new();
    for (row, name) in rows.iter().zip(refused) {
        for (column, quoted) in [
            ("Reason", format!("{name:?}")),
            ("Причина", format!("{name:?}")),
        ] {
            let reason = &row[column];
            assert!(reason.contains(&quoted), "{name}: {reason}");
            said.insert(reason.replace(&quoted, "NAME"));
        }
    }
    assert_eq!(
        said.len(),
        2,
        "one wording per language, whatever is there: {said:#?}"
    );
    let en = said.iter().find(|s| s.contains("photo NAME")).unwrap();
    assert!(
        en.contains("not found in the spreadsheet's folder; expected a relative path"),
        "{en}"
    );
    // Only the good photo reached the home, owner-only.
    let stored: Vec<_> = std::fs::read_dir(h.root.join("photos"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(
        std::fs::read(&stored[0]).unwrap(),
        std::fs::read(drop.join("photos/ok.png")).unwrap()
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&stored[0]).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// A photo whose header claims 20000×20000 pixels is a clear row error
/// before anything is decoded; a file over the size limit is refused by
/// its size, read no further.
#[test]
fn huge_photos_are_refused_by_their_header_and_their_size() {
    let h = Home::new();
    let drop = h.work.join("drop");
    std::fs::create_dir_all(&drop).unwrap();
    std::fs::write(drop.join("huge.png"), png_claiming(20_000, 20_000)).unwrap();
    let big = std::fs::File::create(drop.join("big.jpg")).unwrap();
    (&big).write_all(b"\xFF\xD8\xFF\xE0").unwrap();
    big.set_len((20 << 20) + 1).unwrap();
    std::fs::write(drop.join("заяви.csv"), clerk_csv(&["huge.png", "big.jpg"])).unwrap();

    let (r, peak) = import(&h, &["drop/заяви.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["rejected"], 2);
    let rows = rejects(&drop.join("заяви.rejects.csv"));
    assert!(
        rows[0]["Reason"].contains(
            "the photo \"huge.png\" is 20000×20000 pixels; at most 8000×8000; scale it down"
        ),
        "{}",
        rows[0]["Reason"]
    );
    assert!(
        !rows[0]["Reason"].contains("Memory limit"),
        "{}",
        rows[0]["Reason"]
    );
    assert!(
        rows[1]["Reason"].contains("photo \"big.jpg\" is 21 MB; at most 20 MB; save it smaller"),
        "{}",
        rows[1]["Reason"]
    );
    assert!(peak < 256, "peak {peak} MiB");
    assert_eq!(std::fs::read_dir(h.root.join("photos")).unwrap().count(), 0);
}

// ------------------------------------------------------------- UTF-16 text

/// Excel's "Unicode Text" (UTF-16LE with its BOM, tab-separated) imports
/// exactly as the same rows saved as a UTF-8 CSV.
#[test]
fn unicode_text_from_excel_imports_as_the_csv() {
    let people = |h: &Home| -> Vec<Vec<Option<String>>> {
        let db = h.db();
        let mut st = db
            .prepare(
                "SELECT surname, given_name, patronymic, birth_date, tax_number, passport, \
                 categories, community FROM people ORDER BY surname",
            )
            .unwrap();
        st.query_map([], |r| (0..8).map(|i| r.get(i)).collect())
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let (csv, txt) = (Home::new(), Home::new());
    let a = crate::common::ok(csv.kartka(&[
        "--json",
        "import",
        "applicants",
        "fixtures/intake/clerk-2026-11.csv",
    ]));
    let b = crate::common::ok(txt.kartka(&[
        "--json",
        "import",
        "applicants",
        "fixtures/intake/clerk-2026-11.unicode.txt",
    ]));
    for key in ["read", "inserted", "rejected", "warnings"] {
        assert_eq!(a.json()[key], b.json()[key], "{key}: {}", b.stdout);
    }
    assert_eq!(b.json()["read"], 3);
    assert_eq!(b.json()["inserted"], 1);
    assert_eq!(people(&csv), people(&txt));
    assert!(!people(&txt).is_empty());
}

// ------------------------------------------------------ giant cells, xlsx

/// The header every generated workbook has: the required columns.
const HEADER: [&str; 8] = [
    "Прізвище",
    "Ім'я",
    "По батькові",
    "Дата народження",
    "Стать",
    "РНОКПП",
    "Категорія пільги",
    "Громада",
];

/// An .xlsx of `rows` rows below `HEADER` (and `extra` more named columns),
/// every cell the one shared string `cell`. Written with a placeholder and
/// the shared string put in after, so this process never holds a copy per
/// cell.
fn amplified_xlsx(path: &Path, rows: u32, extra: u16, cell: &str) {
    const PLACEHOLDER: &str = "@@CELL@@";
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let width = HEADER.len() as u16 + extra;
    for c in 0..width {
        let name = HEADER
            .get(usize::from(c))
            .map_or_else(|| format!("Примітка {c}"), |h| h.to_string());
        ws.write_string(0, c, name).unwrap();
    }
    for r in 1..=rows {
        for c in 0..width {
            ws.write_string(r, c, PLACEHOLDER).unwrap();
        }
    }
    let bytes = wb.save_to_buffer().unwrap();
    let sst = {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
        let mut text = String::new();
        zip.by_name("xl/sharedStrings.xml")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    };
    assert!(sst.contains(PLACEHOLDER), "{sst}");
    let sst = sst.replace(PLACEHOLDER, cell);
    std::fs::write(
        path,
        rezip(&bytes, &[("xl/sharedStrings.xml", sst.as_bytes())]),
    )
    .unwrap();
}

/// The attack of a 106 KB workbook: 3,000 rows naming one 32,767-character
/// shared string in every cell. Each row is rejected once, saying the cell
/// is too long with a short quote; the rejects file holds cut cells; the
/// run's memory stays small, and nothing is stored.
#[test]
fn one_long_shared_string_in_every_cell_is_rejected_in_bounded_memory() {
    let h = Home::new();
    let long = "Я".repeat(32_767);
    amplified_xlsx(&h.work.join("amp.xlsx"), 3000, 2, &long);
    assert!(std::fs::metadata(h.work.join("amp.xlsx")).unwrap().len() < 400_000);

    let (r, peak) = import(&h, &["amp.xlsx"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["read"], 3000);
    assert_eq!(v["rejected"], 3000);
    assert!(peak < XLSX_BOUND_MIB, "peak {peak} MiB");
    let first = r
        .stderr
        .lines()
        .find(|l| l.starts_with("rejected:"))
        .unwrap();
    let quote = format!("\"{}…\" (32767 characters) is too long", "Я".repeat(80));
    assert!(first.contains(&quote), "{first}");
    assert!(
        first.len() < 8 * 1024,
        "a reason quotes each cell once, cut: {} bytes",
        first.len()
    );
    let rejects_file = h.work.join("amp.rejects.csv");
    let size = std::fs::metadata(&rejects_file).unwrap().len();
    assert!(size < 150 << 20, "{size} bytes");
    let rows = rejects(&rejects_file);
    assert_eq!(rows.len(), 3000);
    assert_eq!(rows[0]["Прізвище"], format!("{}…", "Я".repeat(1000)));
    assert_eq!(h.count("SELECT count(*) FROM people"), 0);
}

/// A 40,000-letter surname, and a 10 MB cell, are row errors naming the
/// column; neither is stored; the good row beside them is.
#[test]
fn a_40000_letter_surname_and_a_10_mb_cell_are_row_errors_never_stored() {
    let h = Home::new();
    let text = std::fs::read_to_string(h.work.join("fixtures/intake/clerk-2026-11.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_string();
    let valid = lines.next().unwrap().to_string();
    let rest = valid.split_once(';').unwrap().1;
    let csv = format!(
        "{header}\r\n{}\r\n{valid}\r\nКоваленко;{};{}\r\n",
        format_args!("{};{rest}", "Я".repeat(40_000)),
        "Марія".repeat(2_000_000),
        rest.split_once(';').unwrap().1
    );
    std::fs::write(h.work.join("long.csv"), csv).unwrap();

    let (r, peak) = import(&h, &["long.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["inserted"], 1);
    assert_eq!(r.json()["rejected"], 2);
    assert!(peak < XLSX_BOUND_MIB, "peak {peak} MiB");
    let rows = rejects(&h.work.join("long.rejects.csv"));
    assert!(
        rows[0]["Reason"].starts_with("column A \"Прізвище\": \"ЯЯЯ")
            && rows[0]["Reason"].ends_with(
                "(40000 characters) is too long: at most 100 characters; correct the cell"
            ),
        "{}",
        rows[0]["Reason"]
    );
    assert!(
        rows[0]["Причина"].contains("(40000 символів) — задовго: щонайбільше 100 символів"),
        "{}",
        rows[0]["Причина"]
    );
    assert!(
        rows[1]["Reason"].starts_with("column B \"Ім’я\": \"МаріяМарія")
            && rows[1]["Reason"].contains("(10000000 characters) is too long"),
        "{}",
        rows[1]["Reason"]
    );
    assert!(
        std::fs::metadata(h.work.join("long.rejects.csv"))
            .unwrap()
            .len()
            < 64 * 1024
    );
    let longest: i64 = h.count(
        "SELECT max(length(surname) + length(given_name) + length(coalesce(patronymic, ''))) FROM people",
    );
    assert!(longest < 40, "{longest}");
}

/// A workbook whose every row is rejected with wide rows of long cells
/// stops when the rejects reach their cap, saying how far it read and what
/// to do; nothing is imported, no rejects file is left, memory stays small.
#[test]
fn rejects_past_the_cap_stop_the_run_with_nothing_imported() {
    let h = Home::new();
    amplified_xlsx(&h.work.join("wide.xlsx"), 600, 192, &"Я".repeat(5000));
    let (r, peak) = import(&h, &["wide.xlsx"]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(peak < XLSX_BOUND_MIB, "peak {peak} MiB");
    let last = r
        .stderr
        .trim_end()
        .lines()
        .rev()
        .take(2)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        r.stderr.contains("wide.xlsx: stopped after ")
            && r.stderr.contains("of them were rejected, more than one run keeps (at most 100000 rows or 128 MB of rejects)")
            && r.stderr.contains("--columns FILE")
            && r.stderr.contains("Nothing was imported."),
        "{last}"
    );
    assert_eq!(h.count("SELECT count(*) FROM people"), 0);
    assert_eq!(h.count("SELECT count(*) FROM imports"), 0);
    let left: Vec<_> = std::fs::read_dir(&h.work)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("rejects"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

// --------------------------------------------------------- hostile archives

/// Rewrites the zip `bytes` with `replace`'s members in place of its own
/// (added when new), every member deflated.
fn rezip(bytes: &[u8], replace: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut zout = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut done = Vec::new();
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut body = Vec::new();
        f.read_to_end(&mut body).unwrap();
        let body = match replace.iter().find(|(n, _)| *n == name) {
            Some((n, b)) => {
                done.push(*n);
                b.to_vec()
            }
            None => body,
        };
        let options = if name == "mimetype" { stored } else { deflated };
        zout.start_file(name, options).unwrap();
        zout.write_all(&body).unwrap();
    }
    for (n, b) in replace.iter().filter(|(n, _)| !done.contains(n)) {
        zout.start_file(*n, deflated).unwrap();
        zout.write_all(b).unwrap();
    }
    zout.finish().unwrap().into_inner()
}

/// Sets the uncompressed size both headers of member `name` declare.
fn declare_size(zip: &mut [u8], name: &str, size: u32) {
    let mut patched = 0;
    for at in 0..zip.len().saturating_sub(46) {
        let (sig, size_at, name_len_at, name_at) = match &zip[at..at + 4] {
            b"PK\x03\x04" => ("local", 22, 26, 30),
            b"PK\x01\x02" => ("central", 24, 28, 46),
            _ => continue,
        };
        let len = usize::from(u16::from_le_bytes([
            zip[at + name_len_at],
            zip[at + name_len_at + 1],
        ]));
        if zip.get(at + name_at..at + name_at + len) == Some(name.as_bytes()) {
            zip[at + size_at..at + size_at + 4].copy_from_slice(&size.to_le_bytes());
            patched += 1;
            let _ = sig;
        }
    }
    assert_eq!(patched, 2, "{name}: a local and a central header");
}

/// A small valid applicants workbook of either kind, to be made hostile.
fn base(kind: &str) -> Vec<u8> {
    match kind {
        "xlsx" => {
            let dir = tempfile::tempdir().unwrap();
            amplified_xlsx(&dir.path().join("a.xlsx"), 1, 0, "x");
            std::fs::read(dir.path().join("a.xlsx")).unwrap()
        }
        _ => std::fs::read(crate::common::repo().join("fixtures/applicants/verbky-2026-10.ods"))
            .unwrap(),
    }
}

/// "Billion laughs": entities defined in terms of each other, ten deep.
fn laughs() -> String {
    let mut dtd = String::from("<!ENTITY lol0 \"lol\">");
    for i in 1..10 {
        let refs = format!("&lol{};", i - 1).repeat(10);
        dtd.push_str(&format!("<!ENTITY lol{i} \"{refs}\">"));
    }
    format!("<!DOCTYPE lolz [{dtd}]>")
}

/// An ODS content.xml: a header row, then `body`.
fn ods_content(prolog: &str, body: &str) -> Vec<u8> {
    let cell = |t: &str| {
        format!(
            "<table:table-cell office:value-type=\"string\"><text:p>{t}</text:p></table:table-cell>"
        )
    };
    let header: String = HEADER.iter().map(|h| cell(h)).collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>{prolog}<office:document-content \
         xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" \
         xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" \
         xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" office:version=\"1.2\">\
         <office:body><office:spreadsheet><table:table table:name=\"Заяви\">\
         <table:table-row>{header}</table:table-row>{body}</table:table>\
         </office:spreadsheet></office:body></office:document-content>"
    )
    .into_bytes()
}

/// One hostile workbook: its kind, what it does, and its bytes.
fn hostile(kind: &str, attack: &str, n: u32, len: usize) -> Vec<u8> {
    let long = "Я".repeat(len);
    match (kind, attack) {
        ("xlsx", "bomb") | ("ods", "bomb") => {
            let mut z = rezip(&base(kind), &[("bomb.bin", &b"0".repeat(1024)[..])]);
            declare_size(&mut z, "bomb.bin", 0xF000_0000);
            z
        }
        ("xlsx", "lying-bomb") => {
            // Declares 1 KB; inflates to 64 MB: the zip reader stops it.
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" count=\"1\" uniqueCount=\"1\"><si><t>{}</t></si></sst>",
                " ".repeat(64 << 20)
            );
            let mut z = rezip(&base(kind), &[("xl/sharedStrings.xml", body.as_bytes())]);
            declare_size(&mut z, "xl/sharedStrings.xml", 1024);
            z
        }
        ("xlsx", "amplification") => {
            let dir = tempfile::tempdir().unwrap();
            amplified_xlsx(&dir.path().join("a.xlsx"), n, 4, &long);
            std::fs::read(dir.path().join("a.xlsx")).unwrap()
        }
        ("xlsx", "entities") => {
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>{}<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" count=\"1\" uniqueCount=\"1\"><si><t>&lol9;</t></si></sst>",
                laughs()
            );
            rezip(&base(kind), &[("xl/sharedStrings.xml", body.as_bytes())])
        }
        ("ods", "amplification") => {
            let row = format!(
                "<table:table-row table:number-rows-repeated=\"{n}\"><table:table-cell \
                 table:number-columns-repeated=\"12\" office:value-type=\"string\"><text:p>{long}</text:p>\
                 </table:table-cell></table:table-row>"
            );
            rezip(&base(kind), &[("content.xml", &ods_content("", &row))])
        }
        ("ods", "repeated") => {
            let row = "<table:table-row table:number-rows-repeated=\"1048575\"><table:table-cell \
                 table:number-columns-repeated=\"16384\" office:value-type=\"string\"><text:p>x</text:p>\
                 </table:table-cell></table:table-row>";
            rezip(&base(kind), &[("content.xml", &ods_content("", row))])
        }
        ("ods", "entities") => {
            let row = "<table:table-row><table:table-cell office:value-type=\"string\"><text:p>&lol9;</text:p></table:table-cell></table:table-row>";
            rezip(
                &base(kind),
                &[("content.xml", &ods_content(&laughs(), row))],
            )
        }
        other => panic!("no such attack {other:?}"),
    }
}

/// Imports one hostile workbook and checks the run's end: a clear refusal
/// (65, the file named, "nothing was imported") or every row rejected with
/// the rejects file bounded; never a crash; memory under the bound.
fn survives(kind: &str, attack: &str, n: u32, len: usize) {
    let h = Home::new();
    let name = format!("{attack}.{kind}");
    std::fs::write(h.work.join(&name), hostile(kind, attack, n, len)).unwrap();
    let (r, peak) = import(&h, &[&name]);
    let what = format!(
        "{name} ({n} rows of {len}): exit {}, peak {peak} MiB\n{}",
        r.code, r.stderr
    );
    let bound = if kind == "xlsx" {
        XLSX_BOUND_MIB
    } else {
        TREE_BOUND_MIB
    };
    eprintln!(
        "{name}: {n} rows of {len} characters: exit {}, peak {peak} MiB",
        r.code
    );
    assert!(peak < bound, "{what}");
    assert!(!r.stderr.contains("panicked"), "{what}");
    match r.code {
        65 => {
            assert!(r.stderr.contains(&format!("{name}: ")), "{what}");
            assert!(
                r.stderr.to_lowercase().contains("nothing was imported"),
                "{what}"
            );
            assert_eq!(h.count("SELECT count(*) FROM people"), 0, "{what}");
        }
        0 => {
            let v = r.json();
            assert_eq!(v["inserted"], 0, "{what}");
            assert_eq!(v["rejected"], v["read"], "{what}");
            if let Some(path) = v["rejects_file"].as_str() {
                let size = std::fs::metadata(h.work.join(path)).unwrap().len();
                assert!(size <= 130 << 20, "{what}: rejects {size} bytes");
            }
        }
        _ => panic!("{what}"),
    }
}

#[test]
fn zip_bombs_are_refused_before_anything_is_unpacked() {
    for kind in ["xlsx", "ods"] {
        let h = Home::new();
        let name = format!("bomb.{kind}");
        std::fs::write(h.work.join(&name), hostile(kind, "bomb", 0, 0)).unwrap();
        let (r, peak) = import(&h, &[&name]);
        assert_eq!(r.code, 65, "{}", r.stderr);
        assert!(
            r.stderr.contains(&format!(
                "{name}: cannot be read as a spreadsheet: the file is damaged or hostile: its part \"bomb.bin\" would unpack to 3840 MB, and a workbook may unpack to at most 2048 MB in all"
            )),
            "{}",
            r.stderr
        );
        assert!(peak < 256, "{kind}: peak {peak} MiB");
    }
    survives("xlsx", "lying-bomb", 0, 0);
}

#[test]
fn entity_expansion_is_never_performed() {
    survives("xlsx", "entities", 0, 0);
    survives("ods", "entities", 0, 0);
}

#[test]
fn repeated_and_amplified_cells_end_in_bounded_memory() {
    survives("ods", "repeated", 0, 0);
    survives("ods", "amplification", 3000, 32_767);
    survives("xlsx", "amplification", 3000, 32_767);
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config {
        cases: 6,
        ..proptest::test_runner::Config::default()
    })]
    /// Amplification of any size, in either format, and every other attack:
    /// a clear end, bounded rejects, bounded memory.
    #[test]
    fn hostile_workbooks_end_cleanly_in_bounded_memory(
        kind in proptest::sample::select(vec!["xlsx", "ods"]),
        attack in proptest::sample::select(vec!["amplification", "amplification", "entities", "bomb"]),
        n in 1u32..2000,
        len in 1usize..32_768,
    ) {
        survives(kind, attack, n, len);
    }
}

/// An input that is a FIFO or a device (a name planted in a cron job's
/// drop folder) is refused at once, never waited on while the run holds
/// the home lock; nothing is imported.
#[test]
fn an_input_that_is_a_fifo_or_a_device_is_refused_not_waited_on() {
    let h = Home::new();
    let fifo = h.work.join("planted.csv");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for name in ["planted.csv", "/dev/zero"] {
        let (r, peak) = import(&h, &["fixtures/intake/clerk-2026-11.csv", name]);
        assert_eq!(r.code, 65, "{}", r.stderr);
        assert!(
            r.stderr.contains(&format!(
                "{name}: cannot be read as a spreadsheet: it is not a regular file (a folder, a device or a pipe)"
            )),
            "{}",
            r.stderr
        );
        assert!(peak < 256, "peak {peak} MiB");
    }
    assert_eq!(h.count("SELECT count(*) FROM people"), 0);
}
