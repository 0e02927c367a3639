//! The one way the desk saves a file (reports, lists, the funnel, manifests, receipts, a
//! customer's export): where it goes, then the write. Every save command resolves its target
//! and writes through here, so they all read a typed path alike and say what failed in the same
//! words, naming what was being saved.
//!
//! A file is written to a temporary file in its own folder and renamed over the target only once
//! complete, so a write that fails (a full disk, a removed drive) never leaves half a report
//! where the person will look for it, nor spoils the copy saved there before.

use std::io::Write;
use std::path::{Path, PathBuf};

use tauri::{Manager, Runtime};

use crate::error::{DeskError, DeskResult};

/// What is being saved: named in every error, so a failed receipt does not speak of manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saving {
    Report,
    List,
    Funnel,
    Manifest,
    Receipt,
    CustomerExport,
}

impl Saving {
    pub fn words(self) -> &'static str {
        match self {
            Saving::Report => "the report",
            Saving::List => "the list",
            Saving::Funnel => "the funnel",
            Saving::Manifest => "the manifest",
            Saving::Receipt => "the receipt",
            Saving::CustomerExport => "the customer's export",
        }
    }
}

/// The folder a save goes to when none is typed: the computer's downloads folder, else home.
pub fn default_folder<R: Runtime>(app: &tauri::AppHandle<R>) -> Option<PathBuf> {
    app.path().download_dir().or_else(|_| app.path().home_dir()).ok()
}

/// Saves `bytes` where `path` says (see [`target`]), `name` being the file's name when `path` is
/// empty or a folder; answers the path written.
pub fn save<R: Runtime>(
    app: &tauri::AppHandle<R>,
    path: Option<&str>,
    name: &str,
    bytes: &[u8],
    what: Saving,
) -> DeskResult<String> {
    let target = target(path.unwrap_or(""), name, default_folder(app), home(), what)?;
    write_atomically(&target, bytes, what)
}

/// The home folder, for `~/` at the start of a typed path (as a shell reads it).
pub fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
}

fn not_saved(what: Saving, why: String) -> DeskError {
    DeskError::NotSaved(format!("{} was not saved: {why}", what.words()))
}

fn no_downloads_folder(what: Saving) -> DeskError {
    not_saved(what, "this computer has no downloads folder, so choose where to save it".into())
}

/// A typed path read as a shell would: `~/` is the home folder; a relative path is read inside
/// `fallback` (the downloads folder), not in whatever folder the desk happened to start in.
fn typed_path(typed: &str, fallback: Option<PathBuf>, home: Option<PathBuf>, what: Saving) -> DeskResult<PathBuf> {
    let path = match (typed.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(typed),
    };
    if path.is_relative() { Ok(fallback.ok_or_else(|| no_downloads_folder(what))?.join(path)) } else { Ok(path) }
}

/// Where a file goes: `path` as typed (see [`typed_path`]); a folder gets `name` in it; empty,
/// `name` in `fallback` (the downloads folder). The folder must exist: a missing one is said,
/// never created behind the person's back.
pub fn target(
    path: &str,
    name: &str,
    fallback: Option<PathBuf>,
    home: Option<PathBuf>,
    what: Saving,
) -> DeskResult<PathBuf> {
    let typed = path.trim();
    if typed.is_empty() {
        return Ok(fallback.ok_or_else(|| no_downloads_folder(what))?.join(name));
    }
    let path = typed_path(typed, fallback, home, what)?;
    if path.is_dir() {
        return Ok(path.join(name));
    }
    // "…/reports/" names a folder even when it is missing: never a file called "reports".
    if typed.ends_with('/') || typed.ends_with(std::path::MAIN_SEPARATOR) {
        return Err(not_saved(what, format!("there is no folder {}", path.display())));
    }
    match path.parent() {
        Some(folder) if folder.is_dir() => Ok(path),
        Some(folder) => Err(not_saved(what, format!("there is no folder {}", folder.display()))),
        None => Err(not_saved(what, format!("{} is not a file's place", path.display()))),
    }
}

/// The folder a set of files goes into (a customer's export): `folder` as typed (see
/// [`typed_path`]), empty for `fallback`. It must exist.
pub fn folder(folder: &str, fallback: Option<PathBuf>, home: Option<PathBuf>, what: Saving) -> DeskResult<PathBuf> {
    let typed = folder.trim();
    let dir = if typed.is_empty() {
        fallback.ok_or_else(|| no_downloads_folder(what))?
    } else {
        typed_path(typed, fallback, home, what)?
    };
    if dir.is_dir() { Ok(dir) } else { Err(not_saved(what, format!("there is no folder {}", dir.display()))) }
}

/// Writes `bytes` at `path` whole or not at all (see the module); answers the path written.
pub fn write_atomically(path: &Path, bytes: &[u8], what: Saving) -> DeskResult<String> {
    write_with(path, what, |f| f.write_all(bytes))
}

/// Writes through `fill` into a temporary file beside `path`, flushed to the disk, then renames
/// it over `path`. If `fill`, the flush or the rename fails, the temporary file is removed and
/// `path` is as it was.
pub(crate) fn write_with(
    path: &Path,
    what: Saving,
    fill: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> DeskResult<String> {
    let (Some(folder), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(not_saved(what, format!("{} is not a file's place", path.display())));
    };
    // Hidden, and unique, so two saves at once never share one.
    let temp = folder.join(format!(".{}.{}.part", name.to_string_lossy(), uuid::Uuid::new_v4().simple()));
    let failed = |e: std::io::Error| {
        tracing::warn!("could not save {} to {}: {e}", what.words(), path.display());
        not_saved(what, format!("it could not be written to {} ({e})", path.display()))
    };
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&temp).map_err(failed)?;
    let written = fill(&mut file).and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written.and_then(|()| std::fs::rename(&temp, path)) {
        // Best effort: the error said is the write's, not this clean-up's.
        let _ = std::fs::remove_file(&temp);
        return Err(failed(e));
    }
    Ok(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(e: DeskError) -> String {
        e.to_command_error().message
    }

    /// Every entry of `dir`, by name.
    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn a_file_path_is_kept_a_folder_gets_the_name_and_empty_means_the_downloads_folder() {
        let root = tempfile::tempdir().unwrap();
        let downloads = root.path().join("Downloads");
        std::fs::create_dir(&downloads).unwrap();
        let dl = || Some(downloads.clone());
        let file = root.path().join("mine.csv");
        let t = |p: &str| target(p, "report.csv", dl(), Some(root.path().to_path_buf()), Saving::Report);
        assert_eq!(t(&file.display().to_string()).unwrap(), file);
        assert_eq!(t(&format!("  {}  ", file.display())).unwrap(), file, "spaces typed around it");
        assert_eq!(t(&root.path().display().to_string()).unwrap(), root.path().join("report.csv"));
        assert_eq!(t(&format!("{}/", downloads.display())).unwrap(), downloads.join("report.csv"));
        assert_eq!(t("").unwrap(), downloads.join("report.csv"));
        assert_eq!(t("   ").unwrap(), downloads.join("report.csv"));
        assert_eq!(t("~/mine.csv").unwrap(), root.path().join("mine.csv"), "~/ is the home folder");
        assert_eq!(t("~/Downloads").unwrap(), downloads.join("report.csv"));
        assert_eq!(t("march.csv").unwrap(), downloads.join("march.csv"), "relative: in the downloads folder");
    }

    #[test]
    fn a_missing_folder_or_no_downloads_folder_is_said_naming_what_was_being_saved() {
        let root = tempfile::tempdir().unwrap();
        let missing = root.path().join("nowhere");
        let e = target(&missing.join("x.pdf").display().to_string(), "r.pdf", None, None, Saving::Receipt).unwrap_err();
        let said = message(e);
        assert!(said.starts_with("the receipt was not saved: there is no folder"), "{said}");
        assert!(said.contains("nowhere") && !said.contains("manifest"), "{said}");
        // A trailing slash names a folder, even a missing one: no file called "nowhere".
        let e = target(&format!("{}/", missing.display()), "m.csv", None, None, Saving::Manifest).unwrap_err();
        assert!(message(e).starts_with("the manifest was not saved: there is no folder"));
        let e = target("", "r.csv", None, None, Saving::Report).unwrap_err();
        let e = e.to_command_error();
        assert_eq!(e.code, "NOT_SAVED");
        assert!(e.message.starts_with("the report was not saved: this computer has no downloads folder"), "{e:?}");
        // The customer's export goes into an existing folder.
        assert_eq!(
            folder(&root.path().display().to_string(), None, None, Saving::CustomerExport).unwrap(),
            root.path()
        );
        assert_eq!(folder("", Some(root.path().to_path_buf()), None, Saving::CustomerExport).unwrap(), root.path());
        let e = folder(&missing.display().to_string(), None, None, Saving::CustomerExport).unwrap_err();
        assert!(message(e).starts_with("the customer's export was not saved: there is no folder"));
    }

    #[test]
    fn a_file_is_written_whole_and_replaces_the_earlier_copy() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("report.csv");
        std::fs::write(&path, "old").unwrap();
        assert_eq!(write_atomically(&path, b"a,b\r\n1,2\r\n", Saving::Report).unwrap(), path.display().to_string());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a,b\r\n1,2\r\n");
        assert_eq!(entries(root.path()), ["report.csv"], "no temporary file left");
    }

    #[test]
    fn a_write_that_fails_halfway_leaves_no_half_file_and_the_earlier_copy_intact() {
        let root = tempfile::tempdir().unwrap();
        let fresh = root.path().join("fresh.csv");
        let half = |f: &mut std::fs::File| {
            f.write_all(b"Period,Currency,Net\r\n2026-03,EUR,")?;
            Err(std::io::Error::other("the disk is full"))
        };
        let said = message(write_with(&fresh, Saving::Report, half).unwrap_err());
        assert!(said.starts_with("the report was not saved: it could not be written to"), "{said}");
        assert!(said.contains("the disk is full"), "{said}");
        assert!(entries(root.path()).is_empty(), "neither the file nor its temporary: {:?}", entries(root.path()));

        let kept = root.path().join("kept.csv");
        std::fs::write(&kept, "the earlier copy").unwrap();
        write_with(&kept, Saving::List, half).unwrap_err();
        assert_eq!(std::fs::read_to_string(&kept).unwrap(), "the earlier copy");
        assert_eq!(entries(root.path()), ["kept.csv"]);

        // The rename itself refused (a folder stands where the file would go): nothing left.
        let taken = root.path().join("taken");
        std::fs::create_dir(&taken).unwrap();
        let said = message(write_atomically(&taken, b"x", Saving::Funnel).unwrap_err());
        assert!(said.starts_with("the funnel was not saved"), "{said}");
        assert_eq!(entries(root.path()), ["kept.csv", "taken"]);
    }
}
