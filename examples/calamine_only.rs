//! The benchmark's peer: calamine alone reading every cell of a workbook,
//! with nothing else done. `scripts/bench-import.sh` times it beside
//! `kartka import applicants` on the same file.

use calamine::{Data, Reader, open_workbook_auto};

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: calamine_only FILE.xlsx");
    let mut book = open_workbook_auto(&path).expect("a workbook");
    let mut cells = 0usize;
    let mut text_bytes = 0usize;
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).expect("a sheet");
        for row in range.rows() {
            for cell in row {
                cells += 1;
                if let Data::String(s) = cell {
                    text_bytes += s.len();
                }
            }
        }
    }
    println!("{cells} cells, {text_bytes} bytes of text");
}
