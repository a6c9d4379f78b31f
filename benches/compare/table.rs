//! The results table: one row per workload and measure, one column per
//! runtime, and the event loop's ratio to tokio.

pub struct Table {
    rows: Vec<Row>,
}

struct Row {
    workload: String,
    unit: &'static str,
    /// event_loop, tokio, blocking
    cells: [Option<f64>; 3],
    /// true if smaller is better (times, bytes), false for throughputs
    lower_is_better: bool,
}

impl Table {
    pub fn new() -> Table {
        Table { rows: Vec::new() }
    }

    /// Adds a row and prints it at once, so a long run shows progress.
    pub fn add(
        &mut self,
        workload: &str,
        unit: &'static str,
        lower_is_better: bool,
        cells: [Option<f64>; 3],
    ) {
        let row = Row {
            workload: workload.to_string(),
            unit,
            cells,
            lower_is_better,
        };
        println!("  {}", format_row(&row));
        self.rows.push(row);
    }

    pub fn print(&self) {
        println!("\n{}", header());
        println!("{}", "-".repeat(header().len()));
        for row in &self.rows {
            println!("{}", format_row(row));
        }
        println!(
            "\nratio = event_loop / tokio for times and bytes (below 1.00: duet better), \
             tokio / event_loop for throughputs (below 1.00: duet better)."
        );
    }
}

fn header() -> String {
    format!(
        "{:<34} {:>14} {:>14} {:>14} {:>7}",
        "workload", "event_loop", "tokio", "blocking", "ratio"
    )
}

fn format_row(row: &Row) -> String {
    let cell = |value: Option<f64>| match value {
        Some(v) => format!("{} {}", number(v), row.unit),
        None => "-".to_string(),
    };
    let ratio = match (row.cells[0], row.cells[1]) {
        (Some(duet), Some(tokio)) if duet > 0.0 && tokio > 0.0 => {
            let r = if row.lower_is_better {
                duet / tokio
            } else {
                tokio / duet
            };
            format!("{r:.2}")
        }
        _ => "-".to_string(),
    };
    format!(
        "{:<34} {:>14} {:>14} {:>14} {:>7}",
        row.workload,
        cell(row.cells[0]),
        cell(row.cells[1]),
        cell(row.cells[2]),
        ratio
    )
}

fn number(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}
