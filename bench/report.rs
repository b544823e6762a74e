//! The table `make bench` prints.

use std::time::Duration;

/// One measured figure.
pub struct Row {
    name: String,
    value: String,
    unit: &'static str,
    target: String,
}

/// The figures of one run, printed at the end.
#[derive(Default)]
pub struct Report {
    rows: Vec<Row>,
    /// The database the figures being added are on, when not the default SQLite.
    database: Option<&'static str>,
}

impl Report {
    /// Names the figures added from now on as measured on `database` (`None`: SQLite).
    pub fn on_database(&mut self, database: Option<&'static str>) {
        self.database = database;
    }

    /// Adds a figure; `target` is the goal it is held to ("" when there is none).
    pub fn add(&mut self, name: &str, value: String, unit: &'static str, target: &str) {
        let name = match self.database {
            Some(database) => format!("{name} [{database}]"),
            None => name.to_string(),
        };
        eprintln!("  {name}: {value} {unit}");
        self.rows.push(Row {
            name,
            value,
            unit,
            target: target.to_string(),
        });
    }

    /// Adds a duration in milliseconds with two decimals.
    pub fn add_ms(&mut self, name: &str, duration: Duration, target: &str) {
        self.add(
            name,
            format!("{:.2}", duration.as_secs_f64() * 1000.0),
            "ms",
            target,
        );
    }

    /// A figure added earlier, as a number.
    pub fn value_of(&self, name: &str) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.name == name)
            .and_then(|r| r.value.parse().ok())
    }

    /// Prints the table.
    pub fn print(&self) {
        let width = self
            .rows
            .iter()
            .map(|r| r.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        println!();
        println!("{:<width$}  {:>12}  {:<5}  target", "name", "value", "unit");
        println!("{}", "-".repeat(width + 34));
        for row in &self.rows {
            println!(
                "{:<width$}  {:>12}  {:<5}  {}",
                row.name, row.value, row.unit, row.target
            );
        }
    }
}

/// The p-th percentile (0–100) of some durations.
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (samples.len() - 1) as f64).round() as usize;
    samples[rank.min(samples.len() - 1)]
}
