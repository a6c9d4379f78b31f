//! The race examples, run as the programs they are.
//!
//! `race_event_loop` must show what it promises: FIFO hides the lost
//! update, a search over a few seeds finds an order that loses a deposit,
//! that seed loses it again on every replay (with the same story), and the
//! fixed deposit survives every seed tried. `race_blocking`'s fixed
//! deposit must survive every round; its racy one loses deposits on most
//! runs, but the OS picks the order, so no test can demand it.
//!
//! docs/DETERMINISM.md shows two runs of `race_event_loop`; they are
//! checked here against real runs, line for line.
//!
//! Every run is bounded (`Running::finish`), and `DUET_SEED` is removed
//! from the children's environment unless a test sets it.

mod support;
use support::examples::*;

use std::time::Duration;

/// How long one run may take: the examples take milliseconds.
const PATIENCE: Duration = Duration::from_secs(60);

/// Runs an example to its end; returns whether it succeeded and its
/// stdout.
fn run(name: &str, args: &[&str], seed_variable: Option<&str>) -> (bool, String) {
    let mut running = Running::start_with(name, args, |command| {
        command.env_remove("DUET_SEED").env_remove("DUET_TRACE");
        if let Some(value) = seed_variable {
            command.env("DUET_SEED", value);
        }
    });
    let (status, stdout) = running.finish(PATIENCE);
    (status.success(), stdout)
}

/// The seed in a line `seed N: ...`.
fn failing_seed(stdout: &str) -> Option<u64> {
    let line = stdout.lines().find(|line| line.starts_with("seed "))?;
    line["seed ".len()..].split(':').next()?.parse().ok()
}

#[test]
fn fifo_hides_the_race_a_seed_finds_it_and_replays_it() {
    let (ok, stdout) = run("race_event_loop", &["--tries", "50"], None);
    assert!(ok, "{stdout}");
    assert!(
        stdout.starts_with("FIFO: balance 500, expected 500: ok"),
        "FIFO order hides the bug:\n{stdout}"
    );
    let seed = failing_seed(&stdout)
        .unwrap_or_else(|| panic!("no failing seed among 50:\n{stdout}"))
        .to_string();
    assert!(stdout.contains("LOST"), "{stdout}");
    let mut stories = Vec::new();
    for _ in 0..3 {
        let (ok, story) = run("race_event_loop", &["--seed", &seed], None);
        assert!(!ok, "seed {seed} must fail on replay too:\n{story}");
        assert!(story.contains("LOST"), "{story}");
        assert!(story.contains("customer 1 reads 0"), "{story}");
        stories.push(story);
    }
    assert!(
        stories.windows(2).all(|pair| pair[0] == pair[1]),
        "a replay tells the same story every time: {stories:#?}"
    );
}

#[test]
fn the_fixed_deposit_survives_every_seed_tried() {
    let (ok, stdout) = run("race_event_loop", &["--fixed", "--tries", "200"], None);
    assert!(ok, "{stdout}");
    assert!(stdout.starts_with("FIFO: balance 500"), "{stdout}");
    assert!(
        stdout.contains("every seed in 0..200 ends ok"),
        "the fix must hold under every order:\n{stdout}"
    );
    let (ok, replay) = run("race_event_loop", &["--fixed", "--seed", "0"], None);
    assert!(ok, "{replay}");
}

#[test]
fn duet_seed_seeds_the_default_runtime() {
    // The first failing seed of the search, as DUET_SEED: the run the
    // example calls FIFO is now that seed's.
    let (_, search) = run("race_event_loop", &["--tries", "50"], None);
    let seed = failing_seed(&search).expect("a failing seed").to_string();
    let (ok, stdout) = run("race_event_loop", &["--tries", "1"], Some(&seed));
    assert!(ok, "{stdout}");
    assert!(
        stdout.starts_with(&format!("DUET_SEED={seed}: balance")) && stdout.contains("LOST"),
        "{stdout}"
    );
    let mut running = Running::start_with("race_event_loop", &[], |command| {
        command.env("DUET_SEED", "forty-two");
    });
    let (status, _) = running.finish(PATIENCE);
    assert!(!status.success());
    assert!(
        running.stderr().contains("DUET_SEED"),
        "{}",
        running.stderr()
    );
}

#[test]
fn on_threads_the_fixed_deposit_survives_every_round() {
    let (ok, stdout) = run("race_blocking", &["--fixed", "--tries", "5"], None);
    assert!(ok, "{stdout}");
    assert!(
        stdout.contains("0 of 5 rounds lost a deposit"),
        "a deposit under one lock is never lost:\n{stdout}"
    );
    let (ok, racy) = run("race_blocking", &["--tries", "3"], None);
    assert!(ok, "{racy}");
    assert_eq!(racy.lines().filter(|l| l.starts_with("round ")).count(), 3);
}

#[test]
fn the_runs_shown_in_determinism_md_are_real_runs() {
    let page = include_str!("../docs/DETERMINISM.md");
    let prompt = "$ cargo run --example race_event_loop";
    let mut checked = 0;
    for block in page.split("```text\n").skip(1) {
        let block = block.split("```").next().expect("a closed block");
        let Some((command, shown)) = block.split_once('\n') else {
            continue;
        };
        let Some(rest) = command.strip_prefix(prompt) else {
            continue;
        };
        let args: Vec<&str> = match rest.trim().strip_prefix("--") {
            Some(args) => args.split_whitespace().collect(),
            None => Vec::new(),
        };
        let (_, stdout) = run("race_event_loop", &args, None);
        assert_eq!(stdout, shown, "DETERMINISM.md shows `{command}` wrongly");
        checked += 1;
    }
    assert_eq!(checked, 2, "the page shows two runs");
}
