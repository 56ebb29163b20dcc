//! What a shopper downloads, counted once for everyone who needs it: `cargo xtask bench size`
//! prints the files and totals, `cargo xtask size-check` (and the same step of `cargo xtask test`)
//! holds the English checkout's gzip total to the budget committed in `size-budget.toml`
//! (issue 11: it may grow by at most 1 % unless the same commit raises the number).

use crate::{root, Result};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::path::Path;

/// One file of a bundle: its label (`checkout: wasm (klarna-checkout_bg.wasm)`), raw and gzip
/// bytes (gzip at its best level, as a server would pre-compress).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSize {
    pub kind: String,
    pub raw: u64,
    pub gzip: u64,
}

/// The committed budget, at the repository's root.
pub const BUDGET_FILE: &str = "size-budget.toml";
/// Its one key: the English checkout's gzip total, as `checkout_total` counts it.
const BUDGET_KEY: &str = "checkout_en_gzip";

/// `bytes` gzip-compressed at the best level: what the budget counts and the server sends.
fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(bytes).map_err(|e| e.to_string())?;
    enc.finish().map_err(|e| e.to_string())
}

fn gzip_len(bytes: &[u8]) -> Result<u64> {
    Ok(gzip(bytes)?.len() as u64)
}

fn file_size(kind: String, path: &Path) -> Result<FileSize> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(FileSize {
        kind,
        raw: bytes.len() as u64,
        gzip: gzip_len(&bytes)?,
    })
}

/// Writes `file.gz` (gzip at its best level) and `file.br` (Brotli at its best level) beside
/// every text, script, style and wasm file under `dir`: the server sends the smaller one the
/// browser accepts (`ServeDir`'s `precompressed_br` and `precompressed_gzip`), so no shopper
/// downloads more than the gzip figure the budget counts. Trunk empties its dist at every
/// build, so none is ever stale.
pub fn precompress(dir: &Path) -> Result {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            precompress(&path)?;
            continue;
        }
        let compressible = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| ["wasm", "js", "css", "html", "txt", "svg", "json"].contains(&e));
        if compressible {
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let gz = gzip(&bytes)?;
            let mut br = Vec::new();
            let params = brotli::enc::BrotliEncoderParams {
                quality: 11,
                lgwin: 22,
                ..Default::default()
            };
            brotli::BrotliCompress(&mut &bytes[..], &mut br, &params)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            for (suffix, compressed) in [(".gz", gz), (".br", br)] {
                let mut name = path.clone().into_os_string();
                name.push(suffix);
                std::fs::write(&name, compressed)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
    }
    Ok(())
}

/// The component's files in one bundle's dist directory (`dist` for the checkout, `dist/bank`
/// for the bookkeeper): wasm, glue and loader js, wasm-bindgen's snippets, css, and the English
/// and German catalogs. The demo shop's own stylesheet is not part of the component.
pub fn bundle_sizes(bundle: &str, dist: &Path) -> Result<Vec<FileSize>> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dist)
        .map_err(|e| format!("{}: {e}", dist.display()))?
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for kind in ["wasm", "js", "css"] {
        for entry in &entries {
            let name = entry.file_name().to_string_lossy().to_string();
            if !name.ends_with(&format!(".{kind}")) || name.starts_with("demo-shop") {
                continue;
            }
            out.push(file_size(
                format!("{bundle}: {kind} ({name})"),
                &entry.path(),
            )?);
        }
    }
    // wasm-bindgen's snippets (the custom element's definition) that the glue imports: the
    // snippets directory also holds those of the crate's other bundle, which are never loaded.
    let glue: String = entries
        .iter()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".js"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    if let Ok(dirs) = std::fs::read_dir(dist.join("snippets")) {
        let mut files: Vec<_> = dirs
            .flatten()
            .filter_map(|d| std::fs::read_dir(d.path()).ok())
            .flat_map(|f| f.flatten().map(|e| e.path()))
            .filter(|path| {
                path.strip_prefix(dist)
                    .is_ok_and(|rel| glue.contains(&*rel.to_string_lossy()))
            })
            .collect();
        files.sort();
        for path in files {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            out.push(file_size(format!("{bundle}: js (snippets/{name})"), &path)?);
        }
    }
    // A build that lost its code must not pass as a small one.
    let count = |kind: &str| {
        out.iter()
            .filter(|f| f.kind.starts_with(&format!("{bundle}: {kind} (")))
            .count()
    };
    if count("wasm") != 1 || count("js") == 0 || count("css") == 0 {
        return Err(format!(
            "{}: the {bundle} bundle should have one .wasm and its .js and .css files \
             (found {} wasm, {} js, {} css): is the build complete?",
            dist.display(),
            count("wasm"),
            count("js"),
            count("css")
        ));
    }
    // The texts: one catalog per language, fetched by the component; English and German
    // listed (the others are of the same size).
    for lang in ["en", "de"] {
        out.push(file_size(
            format!("{bundle}: texts ({lang}.txt)"),
            &dist.join(format!("i18n/{lang}.txt")),
        )?);
    }
    Ok(out)
}

/// Both bundles of this tree's `dist`: shoppers download only the first.
pub fn sizes() -> Result<Vec<FileSize>> {
    let mut out = bundle_sizes("checkout", &root().join("dist"))?;
    out.extend(bundle_sizes("bank-link", &root().join("dist/bank"))?);
    Ok(out)
}

/// What one reader of `lang` downloads of `bundle`: the code and their own catalog only
/// (docs/i18n.md). Returns (raw, gzip).
pub fn total(sizes: &[FileSize], bundle: &str, lang: &str) -> (u64, u64) {
    sizes
        .iter()
        .filter(|f| {
            f.kind.starts_with(&format!("{bundle}:"))
                && (!f.kind.contains("texts") || f.kind.contains(&format!("({lang}.txt)")))
        })
        .fold((0, 0), |(r, g), f| (r + f.raw, g + f.gzip))
}

/// The guarded figure: the English shopper's checkout, gzip, from a checkout dist directory.
pub fn checkout_en_gzip(dist: &Path) -> Result<u64> {
    Ok(total(&bundle_sizes("checkout", dist)?, "checkout", "en").1)
}

/// Growth allowed over the committed number before the guard fails, in percent.
pub const TOLERANCE_PERCENT: u64 = 1;

/// Within budget: the largest total still allowed and what is left of it.
#[derive(Debug, PartialEq, Eq)]
pub struct Headroom {
    pub limit: u64,
    pub left: u64,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BudgetError {
    #[error(
        "size budget exceeded: the English checkout is {measured} bytes gzip, {over} over \
         the {limit} allowed ({budget} committed in {file} + {pct} %). Make it smaller, or, \
         when the growth is deliberate, set `{key} = {measured}` in {file} in the same commit \
         and say why in docs/performance.md",
        file = BUDGET_FILE,
        key = BUDGET_KEY,
        pct = TOLERANCE_PERCENT
    )]
    Exceeded {
        budget: u64,
        measured: u64,
        limit: u64,
        over: u64,
    },
    #[error("{file}: no line `{key} = <bytes>` (a positive whole number)", file = BUDGET_FILE, key = BUDGET_KEY)]
    Unreadable,
}

/// The guard itself: `measured` may exceed `budget` by at most `TOLERANCE_PERCENT`, rounded
/// down to whole bytes.
pub fn check_budget(budget: u64, measured: u64) -> std::result::Result<Headroom, BudgetError> {
    let limit = budget + budget * TOLERANCE_PERCENT / 100;
    match limit.checked_sub(measured) {
        Some(left) => Ok(Headroom { limit, left }),
        None => Err(BudgetError::Exceeded {
            budget,
            measured,
            limit,
            over: measured - limit,
        }),
    }
}

/// Reads `checkout_en_gzip = N` from the budget file's text (TOML; comments and other keys
/// ignored, `_` digit separators allowed).
pub fn parse_budget(text: &str) -> std::result::Result<u64, BudgetError> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter_map(|l| l.split_once('='))
        .find(|(key, _)| key.trim() == BUDGET_KEY)
        .and_then(|(_, value)| value.trim().replace('_', "").parse::<u64>().ok())
        .filter(|n| *n > 0)
        .ok_or(BudgetError::Unreadable)
}

/// The step of `cargo xtask test` and `cargo xtask size-check`, on an already built `dist`.
pub fn check() -> Result {
    let path = root().join(BUDGET_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let budget = parse_budget(&text).map_err(|e| e.to_string())?;
    let measured = checkout_en_gzip(&root().join("dist"))?;
    let headroom = check_budget(budget, measured).map_err(|e| e.to_string())?;
    println!(
        "size budget: the English checkout is {measured} bytes gzip, budget {budget} \
         (up to {} allowed): {} bytes of headroom",
        headroom.limit, headroom.left
    );
    if measured * 100 < budget * (100 - TOLERANCE_PERCENT) {
        println!(
            "size budget: {} bytes under the committed number: lower `{BUDGET_KEY}` in \
             {BUDGET_FILE} to {measured} to keep the gain",
            budget - measured
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_without_its_wasm_is_refused_not_counted_small() {
        let dist = std::env::temp_dir().join(format!("kc-size-{}", std::process::id()));
        std::fs::create_dir_all(dist.join("i18n")).unwrap();
        for file in ["glue.js", "checkout.css", "i18n/en.txt", "i18n/de.txt"] {
            std::fs::write(dist.join(file), "x").unwrap();
        }
        let missing = bundle_sizes("checkout", &dist);
        std::fs::write(dist.join("code_bg.wasm"), "x").unwrap();
        let complete = bundle_sizes("checkout", &dist);
        std::fs::remove_dir_all(&dist).unwrap();
        assert!(missing.unwrap_err().contains("0 wasm"));
        assert_eq!(complete.unwrap().len(), 5);
    }

    #[test]
    fn only_the_snippets_the_glue_imports_are_counted() {
        let dist = std::env::temp_dir().join(format!("kc-snippets-{}", std::process::id()));
        std::fs::create_dir_all(dist.join("i18n")).unwrap();
        std::fs::create_dir_all(dist.join("snippets/crate-1")).unwrap();
        for file in ["code_bg.wasm", "checkout.css", "i18n/en.txt", "i18n/de.txt"] {
            std::fs::write(dist.join(file), "x").unwrap();
        }
        std::fs::write(
            dist.join("glue.js"),
            "import { define } from './snippets/crate-1/inline0.js';",
        )
        .unwrap();
        std::fs::write(dist.join("snippets/crate-1/inline0.js"), "x").unwrap();
        std::fs::write(dist.join("snippets/crate-1/inline1.js"), "x").unwrap();
        let sizes = bundle_sizes("checkout", &dist);
        std::fs::remove_dir_all(&dist).unwrap();
        let kinds: Vec<String> = sizes.unwrap().into_iter().map(|f| f.kind).collect();
        assert!(kinds.contains(&"checkout: js (snippets/inline0.js)".to_string()));
        assert!(!kinds.iter().any(|k| k.contains("inline1")), "{kinds:?}");
    }

    #[test]
    fn precompressed_copies_read_back_as_the_file() {
        let dist = std::env::temp_dir().join(format!("kc-precompress-{}", std::process::id()));
        std::fs::create_dir_all(dist.join("bank")).unwrap();
        let wasm: Vec<u8> = (0..50_000u32).map(|i| (i % 199) as u8).collect();
        std::fs::write(dist.join("bank/code_bg.wasm"), &wasm).unwrap();
        std::fs::write(dist.join("notes.md"), "not served compressed").unwrap();
        precompress(&dist).unwrap();
        let gz = std::fs::read(dist.join("bank/code_bg.wasm.gz")).unwrap();
        let br = std::fs::read(dist.join("bank/code_bg.wasm.br")).unwrap();
        let untouched = !dist.join("notes.md.gz").exists();
        std::fs::remove_dir_all(&dist).unwrap();
        let mut from_gz = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut from_gz)
            .unwrap();
        let mut from_br = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut from_br).unwrap();
        assert_eq!(from_gz, wasm);
        assert_eq!(from_br, wasm);
        assert!(br.len() < wasm.len() / 4 && gz.len() < wasm.len() / 4);
        assert!(untouched, "only the kinds the server sends are compressed");
    }

    #[test]
    fn at_or_under_the_budget_passes_with_its_headroom() {
        assert_eq!(
            check_budget(100_000, 90_000),
            Ok(Headroom {
                limit: 101_000,
                left: 11_000
            })
        );
        assert_eq!(
            check_budget(100_000, 100_000),
            Ok(Headroom {
                limit: 101_000,
                left: 1_000
            })
        );
    }

    #[test]
    fn one_percent_more_passes_one_byte_beyond_fails() {
        assert_eq!(
            check_budget(100_000, 101_000),
            Ok(Headroom {
                limit: 101_000,
                left: 0
            })
        );
        assert_eq!(
            check_budget(100_000, 101_001),
            Err(BudgetError::Exceeded {
                budget: 100_000,
                measured: 101_001,
                limit: 101_000,
                over: 1
            })
        );
    }

    #[test]
    fn the_tolerance_rounds_down_to_whole_bytes() {
        // 1 % of 168,303 is 1,683.03: 169,986 is allowed, 169,987 is not.
        assert!(check_budget(168_303, 169_986).is_ok());
        assert!(check_budget(168_303, 169_987).is_err());
    }

    #[test]
    fn the_failure_names_the_file_and_the_number_to_commit() {
        let message = check_budget(100_000, 120_000).unwrap_err().to_string();
        assert!(message.contains("size-budget.toml"), "{message}");
        assert!(message.contains("checkout_en_gzip = 120000"), "{message}");
        assert!(message.contains("19000 over"), "{message}");
    }

    #[test]
    fn the_budget_file_is_read_with_comments_and_separators() {
        let text = "# The shopper's checkout\n\
                    [checkout]\n\
                    other = 5\n\
                    checkout_en_gzip = 168_303 # English, gzip best\n";
        assert_eq!(parse_budget(text), Ok(168_303));
        assert_eq!(parse_budget("checkout_en_gzip=42"), Ok(42));
    }

    #[test]
    fn a_budget_file_without_a_number_is_refused() {
        for text in [
            "",
            "checkout_en_gzip =",
            "checkout_en_gzip = lots",
            "checkout_en_gzip = 0",
            "checkout_en_gzip = -5",
            "# checkout_en_gzip = 5",
            "checkout_en_gzip_old = 5",
        ] {
            assert_eq!(parse_budget(text), Err(BudgetError::Unreadable), "{text:?}");
        }
    }

    #[test]
    fn a_reader_counts_the_code_and_their_own_catalog_only() {
        let f = |kind: &str, raw, gzip| FileSize {
            kind: kind.into(),
            raw,
            gzip,
        };
        let sizes = [
            f("checkout: wasm (a.wasm)", 100, 50),
            f("checkout: js (a.js)", 20, 10),
            f("checkout: texts (en.txt)", 8, 4),
            f("checkout: texts (de.txt)", 9, 5),
            f("bank-link: wasm (b.wasm)", 1000, 500),
        ];
        assert_eq!(total(&sizes, "checkout", "en"), (128, 64));
        assert_eq!(total(&sizes, "checkout", "de"), (129, 65));
        assert_eq!(total(&sizes, "bank-link", "en"), (1000, 500));
    }
}
