//! `cargo xtask release`: signs the desk's bundles with the project's private update key and
//! publishes them into an updates directory the sync-server serves (`updates_dir`).
//! `cargo xtask release keygen <file>` makes the key pair once.
//!
//! The private key never enters the repository: it comes from `TOURDESK_UPDATE_KEY` (the base64
//! text) or the file `TOURDESK_UPDATE_KEY_FILE` names, with `TOURDESK_UPDATE_KEY_PASSWORD` when
//! it is encrypted. A key whose public half is not the one compiled into the desk is refused:
//! every desk would refuse what it signs.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use tourdesk_updates::{Channel, PROJECT_PUBLIC_KEY, Release, SigningKey};

use crate::{root, say, target_dir};

const USAGE: &str = "usage: cargo xtask release [--channel stable|beta] [--notes TEXT | --notes-file FILE] \
                     [--out DIR] [ARTIFACT…]\n       cargo xtask release keygen FILE";

pub fn release(args: &[String]) -> anyhow::Result<()> {
    if args.first().map(String::as_str) == Some("keygen") {
        return keygen(args.get(1).map(PathBuf::from));
    }
    let mut channel = Channel::Stable;
    let mut notes = String::new();
    let mut out =
        std::env::var("TOURDESK_UPDATES_DIR").map(PathBuf::from).unwrap_or_else(|_| root().join(".dev/updates"));
    let mut artifacts = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().with_context(|| format!("{a} needs a value\n{USAGE}"));
        match a.as_str() {
            "--channel" => channel = value()?.parse()?,
            "--notes" => notes = value()?.clone(),
            "--notes-file" => {
                let f = value()?;
                notes = std::fs::read_to_string(f).with_context(|| format!("reading {f}"))?.trim().to_string();
            }
            "--out" => out = PathBuf::from(value()?),
            s if s.starts_with("--") => bail!("unknown option {s}\n{USAGE}"),
            s => artifacts.push(PathBuf::from(s)),
        }
    }
    let version = desk_version()?;
    if artifacts.is_empty() {
        artifacts = built_bundles(&version);
        if artifacts.is_empty() {
            bail!("no bundle of version {version} under {}: run `cargo xtask bundle` first", bundle_dir().display());
        }
    }
    let key = signing_key()?;
    if key.public_b64()?.trim() != PROJECT_PUBLIC_KEY.trim() {
        bail!(
            "this private key does not match the public key compiled into the desk \
             (updates/update-key.pub.b64): desks would refuse everything it signs"
        );
    }
    for artifact in &artifacts {
        let platform = platform_of(artifact)?;
        let manifest = tourdesk_updates::publish(
            &out,
            &Release { channel, version: &version, notes: &notes, platform: &platform, artifact },
            &key,
        )?;
        // Self-check with the desk's key, as the desk will.
        let entry = manifest.platforms.get(&platform).context("manifest lost the entry it was given")?;
        let data = std::fs::read(artifact)?;
        tourdesk_updates::verify(&data, &entry.signature, PROJECT_PUBLIC_KEY, &version)?;
        say(&format!(
            "{} {version} on {channel} for {platform}: signed, {} published",
            artifact.display(),
            human_size(data.len() as u64)
        ));
    }
    say(&format!("manifest: {}", out.join(channel.as_str()).join("latest.json").display()));
    Ok(())
}

fn keygen(file: Option<PathBuf>) -> anyhow::Result<()> {
    let file = file.context(USAGE)?;
    let file = if file.is_absolute() { file } else { std::env::current_dir()?.join(file) };
    if file.starts_with(root()) {
        bail!("{} is inside the repository: keep the private key elsewhere", file.display());
    }
    if file.exists() {
        bail!("{} exists; not overwriting a key", file.display());
    }
    let password = std::env::var("TOURDESK_UPDATE_KEY_PASSWORD").ok().filter(|p| !p.is_empty());
    let keys = tourdesk_updates::generate_keys(password.as_deref())?;
    write_private(&file, &keys.secret_b64)?;
    let public = root().join("updates/update-key.pub.b64");
    std::fs::write(&public, &keys.public_b64)?;
    say(&format!(
        "private key written to {} ({}); public key to {}.\n    Put the same public key in src-tauri/tauri.conf.json (plugins.updater.pubkey):\n    {}",
        file.display(),
        if password.is_some() { "encrypted" } else { "not encrypted: set TOURDESK_UPDATE_KEY_PASSWORD to encrypt it" },
        public.display(),
        keys.public_b64
    ));
    Ok(())
}

#[cfg(unix)]
fn write_private(file: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(file)?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(file: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(file, text)?;
    Ok(())
}

fn signing_key() -> anyhow::Result<SigningKey> {
    let text = match (std::env::var("TOURDESK_UPDATE_KEY"), std::env::var("TOURDESK_UPDATE_KEY_FILE")) {
        (Ok(k), _) if !k.trim().is_empty() => k,
        (_, Ok(f)) if !f.is_empty() => {
            std::fs::read_to_string(&f).with_context(|| format!("reading the key file {f}"))?
        }
        _ => bail!("no signing key: set TOURDESK_UPDATE_KEY (its base64 text) or TOURDESK_UPDATE_KEY_FILE"),
    };
    let password = std::env::var("TOURDESK_UPDATE_KEY_PASSWORD").ok().filter(|p| !p.is_empty());
    Ok(SigningKey::from_base64(&text, password.as_deref())?)
}

/// The desk's version, from `src-tauri/tauri.conf.json` (what the bundles are named after).
pub fn desk_version() -> anyhow::Result<String> {
    let conf = std::fs::read_to_string(root().join("src-tauri/tauri.conf.json"))?;
    let v = conf
        .lines()
        .find_map(|l| l.trim().strip_prefix("\"version\":"))
        .map(|v| v.trim().trim_end_matches(',').trim_matches('"').to_string())
        .context("no version in tauri.conf.json")?;
    Ok(v)
}

pub fn bundle_dir() -> PathBuf {
    target_dir().join("release/bundle")
}

/// The bundles `cargo xtask bundle` made for `version` on this machine.
pub fn built_bundles(version: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for sub in ["appimage", "deb", "msi", "nsis", "macos"] {
        let Ok(entries) = std::fs::read_dir(bundle_dir().join(sub)) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            let wanted = name.ends_with(".AppImage")
                || name.ends_with(".deb")
                || name.ends_with(".msi")
                || name.ends_with("-setup.exe")
                || name.ends_with(".app.tar.gz");
            if wanted && (name.contains(version) || name.ends_with(".app.tar.gz")) {
                found.push(p);
            }
        }
    }
    found.sort();
    found
}

/// The updater's platform key for an artifact: `{os}-{arch}` for the default installer of the
/// OS (AppImage, the macOS app), `{os}-{arch}-{installer}` for the others.
fn platform_of(artifact: &Path) -> anyhow::Result<String> {
    let name = artifact.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let arch = match std::env::consts::ARCH {
        "x86" => "i686",
        "arm" => "armv7",
        a => a,
    };
    let p = if name.ends_with(".AppImage") {
        format!("linux-{arch}")
    } else if name.ends_with(".deb") {
        format!("linux-{arch}-deb")
    } else if name.ends_with(".msi") {
        format!("windows-{arch}-msi")
    } else if name.ends_with("-setup.exe") {
        format!("windows-{arch}-nsis")
    } else if name.ends_with(".app.tar.gz") {
        format!("darwin-{arch}")
    } else {
        bail!("{name}: not a bundle the updater installs (.AppImage, .deb, .msi, -setup.exe, .app.tar.gz)")
    };
    Ok(p)
}

pub fn human_size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
    } else {
        format!("{} KiB", bytes / 1024)
    }
}
