//! Fixed-width, plain-text columns.

/// How a column's cells are padded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Align {
    /// Text flush left.
    Left,
    /// Text flush right (numbers).
    Right,
}

/// Rows of cells rendered with every column as wide as its widest cell.
#[derive(Debug, Default)]
pub(super) struct Grid {
    /// Alignment per column; columns past the end are left-aligned.
    aligns: Vec<Align>,
    /// The cells, row by row.
    rows: Vec<Vec<String>>,
}

/// Spaces between two columns.
const GAP: usize = 2;

impl Grid {
    /// An empty grid with the given column alignments.
    pub(super) fn new(aligns: &[Align]) -> Self {
        Self {
            aligns: aligns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    pub(super) fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Self {
        self.rows.push(cells.into_iter().map(Into::into).collect());
        self
    }

    /// Renders the rows, each line prefixed by `indent` and ended by a newline, without
    /// trailing spaces.
    pub(super) fn render(&self, indent: &str) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                self.rows
                    .iter()
                    .filter_map(|row| row.get(c))
                    .map(|cell| cell.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in &self.rows {
            let mut line = String::from(indent);
            for (c, cell) in row.iter().enumerate() {
                if c > 0 {
                    line.push_str(&" ".repeat(GAP));
                }
                let pad = " ".repeat(widths[c] - cell.chars().count());
                match self.aligns.get(c).copied().unwrap_or(Align::Left) {
                    Align::Left => {
                        line.push_str(cell);
                        line.push_str(&pad);
                    }
                    Align::Right => {
                        line.push_str(&pad);
                        line.push_str(cell);
                    }
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns() {
        let mut grid = Grid::new(&[Align::Left, Align::Right]);
        grid.row(["a", "1"]).row(["longer", "12345"]);
        assert_eq!(grid.render("  "), "  a           1\n  longer  12345\n");
    }

    #[test]
    fn ragged_rows_and_no_trailing_spaces() {
        let mut grid = Grid::new(&[Align::Left]);
        grid.row(["key", "value"]).row(["k"]);
        assert_eq!(grid.render(""), "key  value\nk\n");
    }

    #[test]
    fn empty_grid_renders_nothing() {
        assert_eq!(Grid::new(&[]).render("  "), "");
    }
}
