//! The text stays true: everything the documents and comments point to
//! exists in this repository.
//!
//! A learner follows references: "see `src/event_loop/timer.rs`",
//! "PITFALLS.md #8", "the test `pitfall_05_...`". A reference to a file
//! that moved, a document that is not in the repository, or a pitfall
//! number the catalogue does not have is a dead end. This test reads
//! README.md, DESIGN.md, every `docs/*.md`, and every comment in `src/`,
//! `tests/` and `examples/`, and checks that:
//!
//! - every file path or file name it names (`*.rs`, `*.md`, `*.toml`,
//!   `*.png`, and paths under `scripts/`, `.cargo/`, `.ci/`) exists: a
//!   path with a `/` relative to the repository, to the file that names
//!   it, or as the tail of a repository path (`net/stream.rs`); a bare
//!   name (`timer.rs`, `PITFALLS.md`) as the name of some file;
//! - every pitfall number ("PITFALLS.md #N", "pitfall N", "pitfalls N and
//!   M", `pitfall_NN_...`) has its section `## N.` in `docs/PITFALLS.md`;
//! - every test or function the documents name in backticks
//!   (`long_snake_case_names`) is a `fn` somewhere in the code;
//! - every `duet::MODULE` path starts with a module that exists;
//! - the README's "Reading order" lists every `.rs` file under `src/`
//!   exactly once, and nothing that does not exist.
//!
//! It scans the files as they are, so it keeps working as files are
//! added: a new source file that the reading order forgets fails it.
//!
//! How the reading order is read: each numbered item is read in order;
//! a backticked folder (`src/event_loop/`) sets the folder that the
//! backticked file names after it (`task.rs`, `net/mod.rs`) are relative
//! to, until the next folder or the next item; a name that starts with
//! `src/` stands for itself.
//!
//! Placeholders are skipped: names with `NAME`, `*` or `X.` in them, a bare
//! extension, the few in [`PLACEHOLDERS`], and paths under `target/` or
//! absolute paths (`/proc/self/stat`), which are not part of the repository.
//!
//! Read next: `docs/TESTING.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Every file in the repository (relative, with `/`), without `target/`
/// and `.git`.
fn repo_files() -> Vec<String> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).expect("a readable directory") {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            if prefix.is_empty() && (name == "target" || name == ".git") {
                continue;
            }
            let path = format!("{prefix}{name}");
            if entry.file_type().unwrap().is_dir() {
                walk(&entry.path(), &format!("{path}/"), out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(Path::new(ROOT), "", &mut out);
    out.sort();
    out
}

/// One piece of text to check: where it came from, and its lines (for
/// comments, only the comment part of each line, others left empty so
/// line numbers stay right).
struct Text {
    file: String,
    lines: Vec<String>,
}

/// The comment part of a line of Rust: a whole-line `//`, `///` or `//!`
/// comment, or what follows ` // ` after code.
fn comment_of(line: &str) -> &str {
    let trimmed = line.trim_start();
    if trimmed.starts_with("//") {
        trimmed
    } else if let Some(at) = line.find(" // ") {
        &line[at..]
    } else {
        ""
    }
}

/// The documents (whole) and the comments of the code.
fn texts(files: &[String]) -> Vec<Text> {
    let mut out = Vec::new();
    for file in files {
        let is_doc = file == "README.md"
            || file == "DESIGN.md"
            || (file.starts_with("docs/") && file.ends_with(".md"));
        let is_code = file.ends_with(".rs")
            && ["src/", "tests/", "examples/"]
                .iter()
                .any(|dir| file.starts_with(dir));
        if !is_doc && !is_code {
            continue;
        }
        let content = fs::read_to_string(Path::new(ROOT).join(file)).unwrap();
        let lines = content
            .lines()
            .map(|line| match is_doc {
                true => line.to_string(),
                false => comment_of(line).to_string(),
            })
            .collect();
        out.push(Text {
            file: file.clone(),
            lines,
        });
    }
    out
}

/// Splits a line into words made of the characters a path can have.
fn words(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| !(c.is_ascii_alphanumeric() || "_./-*".contains(c)))
        .map(|word| word.trim_end_matches(['.', '-']))
        .filter(|word| !word.is_empty())
}

/// Does this word name a file or folder of the repository?
fn looks_like_a_path(word: &str) -> bool {
    let known_dir = ["src/", "tests/", "examples/", "docs/", "benches/"];
    let extension = [".rs", ".md", ".toml", ".png"]
        .iter()
        .any(|ext| word.ends_with(ext));
    let special = ["scripts/", ".cargo/", ".ci/"]
        .iter()
        .any(|dir| word.starts_with(dir) && word.len() > dir.len());
    let folder = word.ends_with('/') && known_dir.iter().any(|dir| word.starts_with(dir));
    extension || special || folder
}

/// Names that stand for "some file" in the text, not for a file.
const PLACEHOLDERS: [&str; 1] = [
    "file.rs", // `file.rs:line`, the form of a task's default name
];

fn is_placeholder(word: &str) -> bool {
    PLACEHOLDERS.contains(&word)
        || (word.starts_with('.') && !word.contains('/')) // `.rs`, an extension alone
        || word.contains("NAME")
        || word.contains('*')
        || word.contains("X.")
        || word.starts_with('/')
        || word.starts_with("target/")
        || word.starts_with("..") && !word.starts_with("../")
}

/// Does `word`, named in `from`, resolve to something in `files`?
fn resolves(word: &str, from: &str, files: &[String]) -> bool {
    let word = word.trim_start_matches("./");
    if let Some(folder) = word.strip_suffix('/') {
        return files.iter().any(|file| {
            file.starts_with(&format!("{folder}/")) || file.contains(&format!("/{folder}/"))
        });
    }
    if !word.contains('/') {
        return files
            .iter()
            .any(|file| file == word || file.ends_with(&format!("/{word}")));
    }
    // Relative to the naming file's folder (markdown links: `../DESIGN.md`),
    // or, for a `#[path]` quoted from another folder, without its `../`s.
    let base = Path::new(from).parent().unwrap_or(Path::new(""));
    let joined = normalise(&base.join(word).to_string_lossy());
    let bare = normalise(word.trim_start_matches("../"));
    files
        .iter()
        .any(|file| file == &joined || file == &bare || file.ends_with(&format!("/{bare}")))
}

/// `docs/../DESIGN.md` → `DESIGN.md`.
fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            part => parts.push(part),
        }
    }
    parts.join("/")
}

/// The pitfall numbers a line names.
fn pitfall_numbers(line: &str) -> Vec<u32> {
    let mut numbers = Vec::new();
    // Markers are matched in lower case, so "PITFALLS.md #8" is found as
    // the catalogue's file name lowered (spelled out of parts here, so that
    // this line itself does not name a lower-case file).
    let lower = line.to_lowercase();
    let catalogue = ["pitfalls", ".md #"].concat();
    for marker in [catalogue.as_str(), "pitfalls ", "pitfall ", "pitfall_"] {
        let mut rest = lower.as_str();
        while let Some(at) = rest.find(marker) {
            rest = &rest[at + marker.len()..];
            // "pitfalls 5 and 8", "pitfall 3", "pitfall_08_"
            let mut tail = rest;
            loop {
                let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
                if digits.is_empty() {
                    break;
                }
                numbers.push(digits.parse().unwrap());
                tail = &tail[digits.len()..];
                match tail.strip_prefix(" and ").or(tail.strip_prefix(", ")) {
                    Some(next) if marker == "pitfalls " => tail = next,
                    _ => break,
                }
            }
        }
    }
    numbers
}

/// The numbers N that `docs/PITFALLS.md` has a `## N.` section for.
fn catalogue() -> BTreeSet<u32> {
    let text = fs::read_to_string(Path::new(ROOT).join("docs/PITFALLS.md"))
        .expect("docs/PITFALLS.md, the pitfall catalogue, exists");
    text.lines()
        .filter_map(|line| line.strip_prefix("## "))
        .filter_map(|rest| rest.split('.').next()?.parse().ok())
        .collect()
}

/// Every function name defined in the code.
fn functions(files: &[String]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for file in files.iter().filter(|f| f.ends_with(".rs")) {
        let content = fs::read_to_string(Path::new(ROOT).join(file)).unwrap();
        let mut rest = content.as_str();
        while let Some(at) = rest.find("fn ") {
            rest = &rest[at + 3..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            names.insert(name);
        }
    }
    names
}

/// The backticked spans of a line.
fn backticked(line: &str) -> impl Iterator<Item = &str> {
    line.split('`').skip(1).step_by(2)
}

#[test]
fn every_file_document_pitfall_and_test_named_in_the_text_exists() {
    let files = repo_files();
    let pitfalls = catalogue();
    assert_eq!(
        pitfalls,
        (1..=10).collect(),
        "docs/PITFALLS.md has sections ## 1. to ## 10."
    );
    let fns = functions(&files);
    let mut problems = Vec::new();
    for text in texts(&files) {
        let is_doc = text.file.ends_with(".md");
        for (index, line) in text.lines.iter().enumerate() {
            let at = format!("{}:{}", text.file, index + 1);
            for word in words(line) {
                let dangling = looks_like_a_path(word)
                    && !is_placeholder(word)
                    && !resolves(word, &text.file, &files);
                if dangling {
                    problems.push(format!(
                        "{at}: names `{word}`, which is not in the repository"
                    ));
                }
            }
            for number in pitfall_numbers(line) {
                if !pitfalls.contains(&number) {
                    problems.push(format!(
                        "{at}: names pitfall {number}, not in docs/PITFALLS.md"
                    ));
                }
            }
            for span in backticked(line) {
                if let Some(module) = span.strip_prefix("duet::") {
                    let first = module.split("::").next().unwrap();
                    let exists = files.contains(&format!("src/{first}.rs"))
                        || files.contains(&format!("src/{first}/mod.rs"))
                        || !first.starts_with(|c: char| c.is_ascii_lowercase());
                    if !exists {
                        problems.push(format!("{at}: names `duet::{first}`, no such module"));
                    }
                }
                let test_like = span.len() >= 25
                    && span.matches('_').count() >= 3
                    && span
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                if is_doc && test_like && !fns.contains(span) {
                    problems.push(format!("{at}: names `{span}`, which is no fn in the code"));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} dangling references:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_readme_reading_order_lists_every_source_file_exactly_once() {
    let readme = fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let start = readme
        .find("## Reading order")
        .expect("README.md has a \"## Reading order\" section");
    let section = &readme[start + 3..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];

    // The numbered items, continuation lines joined.
    let mut items: Vec<String> = Vec::new();
    for line in section.lines() {
        let trimmed = line.trim_start();
        let numbered = trimmed
            .split_once(". ")
            .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if numbered {
            items.push(trimmed.to_string());
        } else if let Some(item) = items.last_mut()
            && !trimmed.is_empty()
        {
            item.push(' ');
            item.push_str(trimmed);
        }
    }
    let mut listed: BTreeMap<String, usize> = BTreeMap::new();
    for item in &items {
        let mut folder = String::new();
        for span in backticked(item) {
            if span.ends_with('/') && !span.contains(' ') {
                folder = span.to_string();
            } else if span.ends_with(".rs") {
                let path = match span.starts_with("src/") {
                    true => span.to_string(),
                    false => format!("{folder}{span}"),
                };
                *listed.entry(path).or_default() += 1;
            }
        }
    }
    let sources: BTreeSet<String> = repo_files()
        .into_iter()
        .filter(|file| file.starts_with("src/") && file.ends_with(".rs"))
        .collect();
    let mut problems = Vec::new();
    for source in &sources {
        match listed.get(source) {
            None => problems.push(format!("{source} is missing from the reading order")),
            Some(1) => {}
            Some(n) => problems.push(format!("{source} is listed {n} times")),
        }
    }
    for path in listed.keys() {
        if path.starts_with("src/") && !sources.contains(path) {
            problems.push(format!("{path} is listed but does not exist"));
        }
        if !path.starts_with("src/") && !Path::new(ROOT).join(path).exists() {
            problems.push(format!("{path} is listed but does not exist"));
        }
    }
    assert!(
        problems.is_empty(),
        "README.md's reading order:\n{}",
        problems.join("\n")
    );
}
