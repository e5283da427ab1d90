//! The crate's modules stand in layers (docs/architecture.md draws them): each imports only
//! from the floors below it and from the modules to its left on its own floor. This reads
//! that map, the one place the order is written, and every `crate::` path in the code of
//! each top-level module of `src/` (not in comments), and fails on an import that points
//! up or sideways to the right, and on a module the map does not place.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The modules in order, lowest first, from the map's `text` block: each line is a floor
/// number then its modules, left to right; a line of description may follow after a wide
/// gap, and lines without a floor number continue the one above.
fn layer_order() -> Vec<String> {
    let doc = fs::read_to_string(manifest_dir().join("docs/architecture.md")).unwrap();
    let block = doc
        .split("```text\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/architecture.md has the map in its first ```text block");
    let mut floors: Vec<(u32, Vec<String>)> = Vec::new();
    for line in block.lines() {
        let Some((floor, rest)) = line.trim_start().split_once(' ') else {
            continue;
        };
        let Ok(floor) = floor.parse::<u32>() else {
            continue;
        };
        let modules = rest.trim_start().split("  ").next().unwrap_or("");
        floors.push((
            floor,
            modules.split_whitespace().map(str::to_owned).collect(),
        ));
    }
    floors.sort_by_key(|(floor, _)| *floor);
    floors
        .into_iter()
        .flat_map(|(_, modules)| modules)
        .collect()
}

/// Every top-level module of `src/` (a file or a directory), with its `.rs` files.
fn modules() -> BTreeMap<String, Vec<PathBuf>> {
    let src = manifest_dir().join("src");
    let mut modules = BTreeMap::new();
    for entry in fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "lib" {
            continue; // it only declares, re-exports and documents
        }
        let files = modules.entry(name).or_insert_with(Vec::new);
        collect_rs(&path, files);
    }
    modules
}

fn collect_rs(path: &Path, files: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in fs::read_dir(path).unwrap() {
            collect_rs(&entry.unwrap().path(), files);
        }
    } else if path.extension().is_some_and(|ext| ext == "rs") {
        files.push(path.to_path_buf());
    }
}

/// The top-level modules a file's code names as `crate::<module>`: comments (and so doc
/// comments and their examples) are left out.
fn imports(file: &Path, known: &BTreeMap<String, Vec<PathBuf>>) -> Vec<(String, usize)> {
    let text = fs::read_to_string(file).unwrap();
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue; // `bareasgi_crate::`, say
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if known.contains_key(&name) {
                found.push((name, number + 1));
            }
        }
    }
    found
}

#[test]
fn every_module_imports_only_from_below_it() {
    let order = layer_order();
    let modules = modules();
    let rank = |name: &str| order.iter().position(|placed| placed == name);
    let unplaced: Vec<_> = modules.keys().filter(|name| rank(name).is_none()).collect();
    assert!(
        unplaced.is_empty(),
        "modules the map in docs/architecture.md does not place: {unplaced:?}"
    );
    let mut upward = Vec::new();
    for (module, files) in &modules {
        let own = rank(module).unwrap();
        for file in files {
            for (imported, line) in imports(file, &modules) {
                if imported != *module && rank(&imported).unwrap() > own {
                    let file = file.strip_prefix(manifest_dir()).unwrap().display();
                    upward.push(format!("{file}:{line}: `{module}` imports `{imported}`"));
                }
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that point up the layers of docs/architecture.md:\n{}",
        upward.join("\n")
    );
}

/// The check itself must see an upward import: one written the way the crate writes them.
#[test]
fn the_check_finds_an_import_and_skips_comments() {
    let dir = std::env::temp_dir().join(format!("bareasgi-architecture-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let file = dir.join("probe.rs");
    fs::write(
        &file,
        "use crate::server::Thing; // crate::app in a comment\n/// [`x`](crate::app::X)\nfn f() { crate::body::g(); }\n",
    )
    .unwrap();
    let known: BTreeMap<_, _> = ["server", "app", "body"]
        .into_iter()
        .map(|name| (name.to_owned(), Vec::new()))
        .collect();
    let found = imports(&file, &known);
    fs::remove_dir_all(&dir).unwrap();
    assert_eq!(found, [("server".to_owned(), 1), ("body".to_owned(), 3)]);
}

#[test]
fn the_map_places_each_module_once() {
    let order = layer_order();
    assert!(order.len() >= 20, "the map looks unread: {order:?}");
    let mut seen = std::collections::BTreeSet::new();
    for module in &order {
        assert!(seen.insert(module), "{module} is placed twice");
    }
}
