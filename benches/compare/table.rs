//! The results tables: one per section, one row per workload and
//! measure, one column per runtime. Each cell is the median of the
//! repetitions and their spread; the best peer of each row is starred,
//! and the last column is duet's cost over the best peer's.

/// A column: a runtime, and whether it is a peer duet is judged against
/// (tokio, smol) or only shown for reference (duet's blocking runtime).
#[derive(Clone, Copy)]
pub struct Column {
    pub runtime: &'static str,
    pub label: &'static str,
    pub peer: bool,
}

/// The median of a cell's repetitions, and how far they spread.
#[derive(Clone, Copy)]
pub struct Stats {
    pub median: f64,
    /// Half the range (max − min) over the median, in percent; `None`
    /// for a single repetition.
    pub spread_pct: Option<f64>,
}

impl Stats {
    pub fn of(mut values: Vec<f64>) -> Option<Stats> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let median = values[values.len() / 2];
        let spread_pct = (values.len() > 1 && median != 0.0)
            .then(|| (values[values.len() - 1] - values[0]) / 2.0 / median.abs() * 100.0);
        Some(Stats { median, spread_pct })
    }
}

pub struct Row {
    pub workload: String,
    pub unit: &'static str,
    /// true for costs (times, bytes), false for throughputs
    pub lower_is_better: bool,
    /// One per column of the section, duet's first.
    pub cells: Vec<Option<Stats>>,
}

pub struct Section {
    pub title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

const NAME: usize = 40;
const CELL: usize = 15;

impl Section {
    pub fn new(title: &str, columns: &[Column]) -> Section {
        Section {
            title: title.to_string(),
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row and prints it at once, so a long run shows progress.
    pub fn add(&mut self, row: Row) {
        if self.rows.is_empty() {
            println!("\n{}\n{}", self.title, self.header());
        }
        println!("{}", self.format_row(&row));
        self.rows.push(row);
    }

    pub fn print(&self) {
        if self.rows.is_empty() {
            return;
        }
        let header = self.header();
        println!("\n{}\n{header}\n{}", self.title, "-".repeat(header.len()));
        for row in &self.rows {
            println!("{}", self.format_row(row));
        }
    }

    fn header(&self) -> String {
        let mut line = format!("{:<NAME$}", "workload (unit)");
        for column in &self.columns {
            line += &format!(" {:>CELL$}", column.label);
        }
        line + &format!(" {:>7}", "duet/best")
    }

    fn format_row(&self, row: &Row) -> String {
        let best = self.best_peer(row);
        let mut line = format!("{:<NAME$}", format!("{} ({})", row.workload, row.unit));
        for (i, cell) in row.cells.iter().enumerate() {
            let text = match cell {
                Some(stats) => {
                    let star = if Some(i) == best { "*" } else { "" };
                    let spread = stats
                        .spread_pct
                        .map_or(String::new(), |s| format!(" ±{s:.0}%"));
                    format!("{star}{}{spread}", number(stats.median))
                }
                None => "-".to_string(),
            };
            line += &format!(" {text:>CELL$}");
        }
        let ratio = match (row.cells[0], best.and_then(|b| row.cells[b])) {
            (Some(duet), Some(peer)) if duet.median > 0.0 && peer.median > 0.0 => {
                let r = if row.lower_is_better {
                    duet.median / peer.median
                } else {
                    peer.median / duet.median
                };
                format!("{r:.2}")
            }
            _ => "-".to_string(),
        };
        line + &format!(" {ratio:>7}")
    }

    /// The peer column with the best median in `row`.
    fn best_peer(&self, row: &Row) -> Option<usize> {
        let better = |a: f64, b: f64| if row.lower_is_better { a < b } else { a > b };
        let mut best: Option<(usize, f64)> = None;
        for (i, column) in self.columns.iter().enumerate() {
            if let (true, Some(stats)) = (column.peer, row.cells[i])
                && best.is_none_or(|(_, b)| better(stats.median, b))
            {
                best = Some((i, stats.median));
            }
        }
        best.map(|(i, _)| i)
    }
}

pub fn legend() {
    println!(
        "\nEach cell: the median of the repetitions, each in a fresh process, taken in \
         turns;\n±: half the range (max-min) over the median. *: the best peer of the row \
         (tokio, smol;\nduet's blocking runtime is shown, not judged against). \
         duet/best: duet's cost over the best\npeer's (for throughputs, the best peer's \
         rate over duet's): above 1.00 duet trails."
    );
}

/// Three significant figures, with k/M for large numbers.
pub fn number(v: f64) -> String {
    let (v, suffix) = if v.abs() >= 1e6 {
        (v / 1e6, "M")
    } else if v.abs() >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let digits = if v.abs() >= 100.0 {
        0
    } else if v.abs() >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$}{suffix}")
}
