//! The import benchmark's peer (scripts/bench-import.sh): calamine alone
//! reading every cell of every sheet of one .xlsx, with nothing checked or
//! stored. Prints the number of non-empty cells.
//!
//!     cargo run --release --example calamine_only -- FILE.xlsx

use calamine::{Data, Reader, Xlsx};

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: calamine_only FILE.xlsx");
    let mut book: Xlsx<_> = calamine::open_workbook(&path).expect("an .xlsx");
    let mut cells = 0usize;
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).expect("a sheet");
        cells += range
            .used_cells()
            .filter(|(_, _, c)| !matches!(c, Data::Empty))
            .count();
    }
    println!("{cells}");
}
