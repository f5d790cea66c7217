//! Where the access-token signing key comes from: `LECTERN_JWT_SECRET`, or a random key created
//! once in the data dir so tokens survive restarts of a single node.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::platform::settings::Settings;
use crate::services::identity::credentials::{random_token, JwtKeys};

pub fn load_jwt_keys(settings: &Settings) -> anyhow::Result<JwtKeys> {
    if let Some(secret) = &settings.jwt_secret {
        return Ok(JwtKeys::from_secret(secret.expose().as_bytes()));
    }
    let path = settings.data_dir.join("secrets").join("jwt.key");
    let secret = match std::fs::read_to_string(&path) {
        Ok(text) if text.trim().len() >= 32 => text.trim().to_owned(),
        Ok(_) => anyhow::bail!("{} is too short; delete it to create a new key", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key_file(&path)?,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    Ok(JwtKeys::from_secret(secret.as_bytes()))
}

fn create_key_file(path: &Path) -> anyhow::Result<String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let secret = random_token(48);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(secret.as_bytes())?;
    Ok(secret)
}
