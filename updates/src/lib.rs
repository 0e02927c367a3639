//! Signed desk updates, end to end but without Tauri:
//!
//! - **Keys and signatures** in the format `tauri-plugin-updater` verifies: a minisign key pair;
//!   the public key the desk compiles in is the base64 of the public key file's text, a
//!   signature is the base64 of the `.sig` file's text. The trusted comment carries
//!   `version:<v>`, which the desk requires (`requireSignedVersion`), so a manifest cannot pair a
//!   new version number with an older, validly signed artifact.
//! - **The updates directory** that `cargo xtask release` fills and the sync-server serves:
//!   `<dir>/<channel>/latest.json` (Tauri's static manifest: version, notes, pub_date and, per
//!   platform such as `linux-x86_64`, the signature and the artifact's URL relative to the
//!   channel's folder) and the artifacts under `<dir>/<channel>/<version>/`.
//! - **The answer** to one desk's question "is there something newer for me?"
//!   ([`lookup`]), in the dynamic format the updater reads: `None` is the server's 204.
//!
//! The private key never enters the repository: the release step reads it from an environment
//! variable or a file, and tests make a throwaway pair at run time.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

/// The project's public update key, compiled into the desk (the same value is in
/// `src-tauri/tauri.conf.json` under `plugins.updater.pubkey`). Its private half is kept by
/// whoever publishes releases, outside the repository.
pub const PROJECT_PUBLIC_KEY: &str = include_str!("../update-key.pub.b64");

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("signing key: {0}")]
    Key(String),
    #[error("signature: {0}")]
    Signature(String),
    #[error("channel {0:?} is neither 'stable' nor 'beta'")]
    Channel(String),
    #[error("version {0:?} is not a semantic version (like 1.4.0)")]
    Version(String),
    #[error("platform {0:?} is not <os>-<arch> (like linux-x86_64)")]
    Platform(String),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a valid update manifest: {source}")]
    Manifest { path: PathBuf, source: serde_json::Error },
    #[error("artifact file name {0:?} must be a plain file name")]
    FileName(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> UpdateError + '_ {
    move |source| UpdateError::Io { path: path.to_path_buf(), source }
}

/// A release channel. Stable desks see stable releases; beta desks see the beta channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    #[default]
    Stable,
    Beta,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Stable => "stable",
            Channel::Beta => "beta",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = UpdateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "stable" => Ok(Channel::Stable),
            "beta" => Ok(Channel::Beta),
            _ => Err(UpdateError::Channel(s.to_string())),
        }
    }
}

/// A key pair in the updater's text format (base64 of the minisign key files).
pub struct GeneratedKeys {
    /// What the desk compiles in.
    pub public_b64: String,
    /// What the release step reads (`TOURDESK_UPDATE_KEY` or the file it names). Secret.
    pub secret_b64: String,
}

impl fmt::Debug for GeneratedKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedKeys").field("public_b64", &self.public_b64).finish_non_exhaustive()
    }
}

/// A new key pair. With a password the secret key is encrypted (scrypt) as minisign does; tests
/// use none.
pub fn generate_keys(password: Option<&str>) -> Result<GeneratedKeys, UpdateError> {
    let key = |e: minisign::PError| UpdateError::Key(e.to_string());
    let pair = match password {
        Some(p) => minisign::KeyPair::generate_encrypted_keypair(Some(p.to_string())).map_err(key)?,
        None => minisign::KeyPair::generate_unencrypted_keypair().map_err(key)?,
    };
    let public = pair.pk.to_box().map_err(key)?.into_string();
    let secret = pair.sk.to_box(Some("tourdesk desk update key")).map_err(key)?.into_string();
    Ok(GeneratedKeys { public_b64: B64.encode(public), secret_b64: B64.encode(secret) })
}

/// The release step's signing key.
pub struct SigningKey {
    sk: minisign::SecretKey,
    pk: minisign::PublicKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

impl SigningKey {
    /// From the base64 text [`generate_keys`] made (whitespace around it ignored). An encrypted
    /// key needs its password; asking for one interactively is never done here.
    pub fn from_base64(secret_b64: &str, password: Option<&str>) -> Result<SigningKey, UpdateError> {
        let text = B64
            .decode(secret_b64.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| UpdateError::Key("not the base64 of a minisign secret key".into()))?;
        let boxed = minisign::SecretKeyBox::from_string(&text).map_err(|e| UpdateError::Key(e.to_string()))?;
        let sk = match minisign::SecretKey::from_unencrypted_box(boxed.clone()) {
            Ok(sk) => sk,
            Err(_) => match password {
                Some(p) => minisign::SecretKey::from_box(boxed, Some(p.to_string()))
                    .map_err(|e| UpdateError::Key(format!("could not decrypt it: {e}")))?,
                None => return Err(UpdateError::Key("the key is encrypted and no password was given".into())),
            },
        };
        let pk = minisign::PublicKey::from_secret_key(&sk).map_err(|e| UpdateError::Key(e.to_string()))?;
        Ok(SigningKey { sk, pk })
    }

    /// The public half, as the desk compiles it in.
    pub fn public_b64(&self) -> Result<String, UpdateError> {
        let text = self.pk.to_box().map_err(|e| UpdateError::Key(e.to_string()))?.into_string();
        Ok(B64.encode(text))
    }

    /// Signs an artifact of `version` named `file_name`: the base64 signature the manifest carries.
    pub fn sign(&self, data: &[u8], file_name: &str, version: &str) -> Result<String, UpdateError> {
        let trusted = format!("timestamp:{}\tfile:{file_name}\tversion:{version}", chrono::Utc::now().timestamp());
        let sig = minisign::sign(
            Some(&self.pk),
            &self.sk,
            Cursor::new(data),
            Some(&trusted),
            Some("signature from tourdesk release"),
        )
        .map_err(|e| UpdateError::Signature(e.to_string()))?;
        Ok(B64.encode(sig.into_string()))
    }
}

/// Checks `signature` (the manifest's base64) over `data` with `public_b64` and that it was made
/// for `version`: what the desk's updater checks, for the release step's own self-check.
pub fn verify(data: &[u8], signature: &str, public_b64: &str, version: &str) -> Result<(), UpdateError> {
    let decode = |s: &str| {
        B64.decode(s.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| UpdateError::Signature("not base64 text".into()))
    };
    let pk = minisign::PublicKeyBox::from_string(&decode(public_b64)?)
        .and_then(|b| b.into_public_key())
        .map_err(|e| UpdateError::Key(e.to_string()))?;
    let sig =
        minisign::SignatureBox::from_string(&decode(signature)?).map_err(|e| UpdateError::Signature(e.to_string()))?;
    let trusted = sig.trusted_comment().map_err(|e| UpdateError::Signature(e.to_string()))?;
    minisign::verify(&pk, &sig, Cursor::new(data), true, false, false)
        .map_err(|e| UpdateError::Signature(e.to_string()))?;
    let signed = trusted.split('\t').find_map(|f| f.strip_prefix("version:"));
    if signed != Some(version) {
        return Err(UpdateError::Signature(format!("signed for version {signed:?}, announced as {version}")));
    }
    Ok(())
}

/// One platform's artifact in a channel's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformEntry {
    pub signature: String,
    /// Relative to the channel's folder (`0.2.0/Tourdesk_0.2.0_amd64.AppImage`), or absolute.
    pub url: String,
}

/// `<dir>/<channel>/latest.json`: Tauri's static manifest format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelManifest {
    pub version: String,
    #[serde(default)]
    pub notes: String,
    /// RFC 3339.
    pub pub_date: String,
    pub platforms: BTreeMap<String, PlatformEntry>,
}

/// The answer to one desk (the updater's dynamic format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateResponse {
    pub version: String,
    pub notes: String,
    pub pub_date: String,
    pub url: String,
    pub signature: String,
}

pub fn parse_version(v: &str) -> Result<semver::Version, UpdateError> {
    semver::Version::parse(v.trim().trim_start_matches('v')).map_err(|_| UpdateError::Version(v.to_string()))
}

/// `linux-x86_64`, `windows-x86_64`, `darwin-aarch64`, optionally with an installer suffix
/// (`linux-x86_64-deb`), as the updater names them.
pub fn check_platform(p: &str) -> Result<(), UpdateError> {
    let parts: Vec<&str> = p.split('-').collect();
    let os_ok = matches!(parts.first(), Some(&("linux" | "windows" | "darwin")));
    let ok = os_ok
        && (2..=3).contains(&parts.len())
        && parts.iter().all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    if ok { Ok(()) } else { Err(UpdateError::Platform(p.to_string())) }
}

fn manifest_path(dir: &Path, channel: Channel) -> PathBuf {
    dir.join(channel.as_str()).join("latest.json")
}

/// The channel's manifest, or `None` when nothing was published to it yet.
pub fn read_manifest(dir: &Path, channel: Channel) -> Result<Option<ChannelManifest>, UpdateError> {
    let path = manifest_path(dir, channel);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(UpdateError::Io { path, source: e }),
    };
    serde_json::from_str(&text).map(Some).map_err(|source| UpdateError::Manifest { path, source })
}

/// One artifact to publish.
#[derive(Debug, Clone)]
pub struct Release<'a> {
    pub channel: Channel,
    pub version: &'a str,
    pub notes: &'a str,
    /// `linux-x86_64`, `windows-x86_64-nsis`, …
    pub platform: &'a str,
    pub artifact: &'a Path,
}

/// Copies the artifact into `<dir>/<channel>/<version>/`, signs it and records it in the
/// channel's manifest. Publishing another platform of the same version adds to the manifest; a
/// new version starts a new one (the old artifacts stay on disk). The manifest is replaced
/// atomically, so a desk asking meanwhile reads the old or the new one, never half.
pub fn publish(dir: &Path, release: &Release<'_>, key: &SigningKey) -> Result<ChannelManifest, UpdateError> {
    let version = parse_version(release.version)?.to_string();
    check_platform(release.platform)?;
    let file_name = release
        .artifact
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty() && !n.starts_with('.'))
        .ok_or_else(|| UpdateError::FileName(release.artifact.display().to_string()))?
        .to_string();
    let data = std::fs::read(release.artifact).map_err(io(release.artifact))?;
    let signature = key.sign(&data, &file_name, &version)?;

    let channel_dir = dir.join(release.channel.as_str());
    let version_dir = channel_dir.join(&version);
    std::fs::create_dir_all(&version_dir).map_err(io(&version_dir))?;
    let dest = version_dir.join(&file_name);
    std::fs::write(&dest, &data).map_err(io(&dest))?;

    let mut manifest = match read_manifest(dir, release.channel)? {
        Some(m) if m.version == version => m,
        _ => ChannelManifest {
            version: version.clone(),
            notes: String::new(),
            pub_date: String::new(),
            platforms: BTreeMap::new(),
        },
    };
    manifest.notes = release.notes.to_string();
    manifest.pub_date = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    manifest
        .platforms
        .insert(release.platform.to_string(), PlatformEntry { signature, url: format!("{version}/{file_name}") });

    let path = manifest_path(dir, release.channel);
    let tmp = channel_dir.join(".latest.json.tmp");
    let text = serde_json::to_string_pretty(&manifest)
        .map_err(|source| UpdateError::Manifest { path: path.clone(), source })?;
    std::fs::write(&tmp, text).map_err(io(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    Ok(manifest)
}

/// What a desk of `current` on `os`-`arch` (`bundle` its installer, `unknown` when the updater
/// could not tell) should install from `channel`: `None` when it is up to date, or nothing is
/// published for its platform. `files_base` is the absolute URL of the channel's folder as the
/// server serves it (`https://sync.example/updates/v1/files/stable`), for relative artifact URLs.
pub fn lookup(
    dir: &Path,
    channel: Channel,
    os: &str,
    arch: &str,
    bundle: Option<&str>,
    current: &str,
    files_base: &str,
) -> Result<Option<UpdateResponse>, UpdateError> {
    let current = parse_version(current)?;
    let Some(manifest) = read_manifest(dir, channel)? else { return Ok(None) };
    let latest = parse_version(&manifest.version)?;
    if latest <= current {
        return Ok(None);
    }
    let mut keys = Vec::new();
    if let Some(b) = bundle.filter(|b| !b.is_empty() && *b != "unknown") {
        keys.push(format!("{os}-{arch}-{b}"));
    }
    keys.push(format!("{os}-{arch}"));
    let Some(entry) = keys.iter().find_map(|k| manifest.platforms.get(k)) else { return Ok(None) };
    let url = if entry.url.contains("://") {
        entry.url.clone()
    } else {
        format!("{}/{}", files_base.trim_end_matches('/'), entry.url.trim_start_matches('/'))
    };
    Ok(Some(UpdateResponse {
        version: manifest.version,
        notes: manifest.notes,
        pub_date: manifest.pub_date,
        url,
        signature: entry.signature.clone(),
    }))
}

/// The file a request for `<channel>/<rest>` names inside `dir`, or `None` when `rest` tries to
/// leave the channel's folder or names a hidden file.
pub fn artifact_path(dir: &Path, channel: Channel, rest: &str) -> Option<PathBuf> {
    let mut path = dir.join(channel.as_str());
    let mut parts = 0;
    for part in rest.split('/') {
        if part.is_empty() || part.starts_with('.') || part.contains('\\') {
            return None;
        }
        path.push(part);
        parts += 1;
    }
    (parts == 2).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).expect("write artifact");
        p
    }

    #[test]
    fn signatures_verify_only_with_their_key_their_bytes_and_their_version() {
        let keys = generate_keys(None).expect("keys");
        let key = SigningKey::from_base64(&keys.secret_b64, None).expect("key");
        assert_eq!(key.public_b64().expect("pk"), keys.public_b64);
        let sig = key.sign(b"bundle bytes", "Tourdesk.AppImage", "0.2.0").expect("sign");
        verify(b"bundle bytes", &sig, &keys.public_b64, "0.2.0").expect("valid");
        assert!(verify(b"bundle bytez", &sig, &keys.public_b64, "0.2.0").is_err(), "tampered bytes");
        assert!(verify(b"bundle bytes", &sig, &keys.public_b64, "0.3.0").is_err(), "other version");
        let other = generate_keys(None).expect("keys");
        assert!(verify(b"bundle bytes", &sig, &other.public_b64, "0.2.0").is_err(), "other key");
    }

    #[test]
    fn an_encrypted_key_needs_its_password() {
        let keys = generate_keys(Some("pw")).expect("keys");
        assert!(SigningKey::from_base64(&keys.secret_b64, None).is_err());
        assert!(SigningKey::from_base64(&keys.secret_b64, Some("wrong")).is_err());
        let key = SigningKey::from_base64(&keys.secret_b64, Some("pw")).expect("key");
        assert_eq!(key.public_b64().expect("pk"), keys.public_b64);
        assert!(SigningKey::from_base64("not a key", None).is_err());
    }

    #[test]
    fn the_project_key_is_a_minisign_public_key() {
        let text = String::from_utf8(B64.decode(PROJECT_PUBLIC_KEY.trim()).expect("base64")).expect("utf8");
        minisign::PublicKeyBox::from_string(&text).and_then(|b| b.into_public_key()).expect("public key");
        // The desk's tauri.conf.json carries the same key (the plugin's configuration).
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../../src-tauri/tauri.conf.json")).expect("tauri.conf.json");
        assert_eq!(conf["plugins"]["updater"]["pubkey"].as_str(), Some(PROJECT_PUBLIC_KEY.trim()));
    }

    #[test]
    fn publish_then_lookup_per_platform_channel_and_version() {
        let dir = tempfile::tempdir().expect("tmp");
        let keys = generate_keys(None).expect("keys");
        let key = SigningKey::from_base64(&keys.secret_b64, None).expect("key");
        let a = artifact(dir.path(), "Tourdesk_0.2.0_amd64.AppImage", b"appimage");
        let d = artifact(dir.path(), "Tourdesk_0.2.0_amd64.deb", b"deb");
        let out = dir.path().join("updates");
        let rel = |platform, artifact| Release {
            channel: Channel::Beta,
            version: "0.2.0",
            notes: "Faster calendar",
            platform,
            artifact,
        };
        publish(&out, &rel("linux-x86_64", &a), &key).expect("publish appimage");
        let m = publish(&out, &rel("linux-x86_64-deb", &d), &key).expect("publish deb");
        assert_eq!(m.platforms.len(), 2, "same version: platforms accumulate");

        let base = "http://h/updates/v1/files/beta";
        let r = lookup(&out, Channel::Beta, "linux", "x86_64", Some("deb"), "0.1.0", base)
            .expect("lookup")
            .expect("update");
        assert_eq!(r.url, "http://h/updates/v1/files/beta/0.2.0/Tourdesk_0.2.0_amd64.deb");
        verify(b"deb", &r.signature, &keys.public_b64, "0.2.0").expect("deb signature");
        let r = lookup(&out, Channel::Beta, "linux", "x86_64", None, "0.1.0", base).expect("lookup").expect("update");
        assert!(r.url.ends_with(".AppImage"));
        assert_eq!(r.notes, "Faster calendar");
        assert_eq!(lookup(&out, Channel::Beta, "linux", "x86_64", None, "0.2.0", base).expect("lookup"), None, "equal");
        assert_eq!(lookup(&out, Channel::Beta, "linux", "x86_64", None, "0.3.0", base).expect("lookup"), None, "newer");
        assert_eq!(
            lookup(&out, Channel::Stable, "linux", "x86_64", None, "0.1.0", base).expect("lookup"),
            None,
            "channel"
        );
        assert_eq!(
            lookup(&out, Channel::Beta, "windows", "x86_64", None, "0.1.0", base).expect("lookup"),
            None,
            "platform"
        );
        assert!(lookup(&out, Channel::Beta, "linux", "x86_64", None, "banana", base).is_err());

        let file = artifact_path(&out, Channel::Beta, "0.2.0/Tourdesk_0.2.0_amd64.deb").expect("inside");
        assert_eq!(std::fs::read(file).expect("copied"), b"deb");
        assert_eq!(artifact_path(&out, Channel::Beta, "../stable/latest.json"), None);
        assert_eq!(artifact_path(&out, Channel::Beta, "latest.json"), None);
        assert_eq!(artifact_path(&out, Channel::Beta, "0.2.0/.hidden"), None);

        // A new version starts a fresh manifest.
        let b = artifact(dir.path(), "Tourdesk_0.3.0_amd64.AppImage", b"next");
        let m = publish(&out, &Release { version: "0.3.0", ..rel("linux-x86_64", &b) }, &key).expect("publish");
        assert_eq!(m.platforms.len(), 1);
    }

    #[test]
    fn bad_release_input_is_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().expect("tmp");
        let keys = generate_keys(None).expect("keys");
        let key = SigningKey::from_base64(&keys.secret_b64, None).expect("key");
        let a = artifact(dir.path(), "x.AppImage", b"x");
        let out = dir.path().join("updates");
        let base =
            Release { channel: Channel::Stable, version: "1.0.0", notes: "", platform: "linux-x86_64", artifact: &a };
        assert!(matches!(
            publish(&out, &Release { version: "one", ..base.clone() }, &key),
            Err(UpdateError::Version(_))
        ));
        assert!(matches!(
            publish(&out, &Release { platform: "amiga", ..base.clone() }, &key),
            Err(UpdateError::Platform(_))
        ));
        assert!(!out.exists());
        assert!("nightly".parse::<Channel>().is_err());
        assert_eq!("Beta".parse::<Channel>().expect("beta"), Channel::Beta);
    }
}
