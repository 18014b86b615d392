//! ARCHITECTURE.md stays true to the code: every file and type it names exists.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if p.is_dir() {
            if !["target", "node_modules", ".git"].contains(&name) {
                all_files(&p, out);
            }
        } else {
            out.push(p);
        }
    }
}

/// Backticked spans of the document.
fn spans(doc: &str) -> Vec<String> {
    doc.split('`')
        .skip(1)
        .step_by(2)
        .map(|s| s.trim().to_string())
        .collect()
}

#[test]
fn every_file_and_type_the_architecture_names_exists() {
    let root = root();
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut files = Vec::new();
    all_files(&root, &mut files);
    let rel: Vec<String> = files
        .iter()
        .filter_map(|f| f.strip_prefix(&root).ok())
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .collect();
    let sources: String = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "rs"))
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect();
    let mut missing = Vec::new();
    for s in spans(&doc) {
        let looks_like_file = !s.contains(' ')
            && !s.contains('<')
            && !s.contains('*')
            && (s.ends_with(".rs")
                || s.ends_with(".md")
                || s.ends_with(".json")
                || s.ends_with(".sh")
                || s.ends_with(".mjs"));
        let looks_like_dir = !s.contains(' ') && s.ends_with('/') && !s.contains('<');
        if looks_like_file {
            let name = s.trim_start_matches("./");
            if !rel
                .iter()
                .any(|r| r == name || r.ends_with(&format!("/{name}")))
            {
                missing.push(format!("file {s}"));
            }
        } else if looks_like_dir {
            let name = s.trim_end_matches('/');
            if !rel
                .iter()
                .any(|r| r.starts_with(&format!("{name}/")) || r.contains(&format!("/{name}/")))
            {
                missing.push(format!("directory {s}"));
            }
        } else if s.len() > 2
            && s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && s.chars().all(|c| c.is_ascii_alphanumeric())
            && s.chars().any(|c| c.is_ascii_lowercase())
        {
            // Declared, or made by a macro whose last line names it (`id_type!(… UserId)`).
            let defined = ["struct", "enum", "trait", "type"]
                .iter()
                .any(|k| sources.contains(&format!("{k} {s}")))
                || sources.contains(&format!("    {s}\n);"));
            if !defined {
                missing.push(format!("type {s}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names what does not exist: {missing:#?}"
    );
}

#[test]
fn only_the_binary_names_the_embedded_backends() {
    let root = root();
    let mut files = Vec::new();
    for krate in ["foryou-server", "foryou-engine", "foryou-types"] {
        all_files(&root.join("crates").join(krate).join("src"), &mut files);
    }
    assert!(!files.is_empty());
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "rs"))
    {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for name in ["EmbeddedStore", "EmbeddedLog", "LocalObjectStore"] {
            assert!(!text.contains(name), "{} names {name}", f.display());
        }
    }
}
