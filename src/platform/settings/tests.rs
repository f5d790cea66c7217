//! Settings parsing: defaults, precedence, and every bad value named by its key.

use super::*;

fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn defaults_give_the_embedded_mode() {
    let s = Settings::from_vars(&vars(&[]), &Overrides::default()).unwrap();
    assert_eq!(s.addr.to_string(), "127.0.0.1:8080");
    assert_eq!(s.data_dir, PathBuf::from("./data"));
    assert_eq!(s.database_url.expose(), "sqlite://./data/lectern.db?mode=rwc");
    assert_eq!(s.database_backend, DatabaseBackend::Sqlite);
    assert_eq!(s.log_format, LogFormat::Pretty);
    assert!(s.qdrant_url.is_none() && s.llm_providers.is_empty());
}

#[test]
fn flags_win_over_environment() {
    let env = vars(&[("LECTERN_ADDR", "0.0.0.0:9000"), ("LECTERN_DATA_DIR", "/srv/env")]);
    let flags = Overrides { addr: Some("127.0.0.1:7000".into()), ..Default::default() };
    let s = Settings::from_vars(&env, &flags).unwrap();
    assert_eq!(s.addr.to_string(), "127.0.0.1:7000");
    assert_eq!(s.data_dir, PathBuf::from("/srv/env"));
    assert_eq!(s.database_url.expose(), "sqlite:///srv/env/lectern.db?mode=rwc");
}

#[test]
fn bad_values_name_the_key_and_the_reason() {
    let cases = [
        ("LECTERN_ADDR", "localhost", "is not a socket address"),
        ("LOG_FORMAT", "xml", "not one of: pretty, json"),
        ("DATABASE_URL", "mysql://u:pw@h/db", "unsupported scheme `mysql`"),
        ("DATABASE_MAX_CONNECTIONS", "lots", "not a whole number"),
        ("LECTERN_MAX_JSON_BYTES", "10", "outside 1024..="),
        ("QDRANT_URL", "qdrant:6334", "must start with http"),
        ("QDRANT_COLLECTION", "chunks/../x", "must be 1-200 letters"),
        ("REDIS_URL", "localhost:6379", "must start with redis://"),
        ("LECTERN_NODE_MODE", "swarm", "not one of: single, cluster"),
        ("LECTERN_NODE_MODE", "cluster", "cluster mode needs DATABASE_URL=postgres"),
        ("LECTERN_BLOB_STORE", "ftp://bucket", "must be `local` or `s3://bucket/prefix`"),
        ("LECTERN_BLOB_STORE", "s3://B", "is not a bucket name"),
        ("LECTERN_JWT_SECRET", "short", "at least 32 characters"),
        ("LECTERN_SIGNUP_MODE", "everyone", "not one of: off, invite, open, approval"),
        ("LECTERN_RATE_LIMITS", "chat=5/min", "`chat` is not one of"),
        ("LECTERN_RATE_LIMITS", "llm=5/week", "`week` is not"),
        ("LECTERN_PLAN_RATE_LIMITS", "team llm=5/min", "is not plan: class=rate"),
        ("LECTERN_METRICS_USER", "prometheus", "set both"),
        ("LECTERN_TRUSTED_PROXIES", "10.0.0.0/8, proxy.local", "`proxy.local` is not an address or network"),
    ];
    for (key, value, reason) in cases {
        let err = Settings::from_vars(&vars(&[(key, value)]), &Overrides::default()).unwrap_err();
        assert_eq!(err.key, key);
        assert!(err.reason.contains(reason), "{key}: {}", err.reason);
    }
}

#[test]
fn trusted_proxies_are_addresses_and_networks() {
    let s = Settings::from_vars(&vars(&[("LECTERN_TRUSTED_PROXIES", " ::1, 192.168.0.0/16 ,")]), &Overrides::default());
    let nets: Vec<String> = s.unwrap().trusted_proxies.iter().map(ToString::to_string).collect();
    assert_eq!(nets, ["::1/128", "192.168.0.0/16"]);
}

#[test]
fn oauth_providers_need_their_secret_and_oidc_its_issuer() {
    let err =
        Settings::from_vars(&vars(&[("LECTERN_OAUTH_GITHUB_CLIENT_ID", "gh")]), &Overrides::default()).unwrap_err();
    assert_eq!(err.key, "LECTERN_OAUTH_GITHUB_CLIENT_SECRET");
    let err = Settings::from_vars(
        &vars(&[("LECTERN_OIDC_CLIENT_ID", "c"), ("LECTERN_OIDC_CLIENT_SECRET", "s")]),
        &Overrides::default(),
    )
    .unwrap_err();
    assert_eq!(err.key, "LECTERN_OIDC_ISSUER");
    let s = Settings::from_vars(
        &vars(&[
            ("LECTERN_OAUTH_GOOGLE_CLIENT_ID", "g"),
            ("LECTERN_OAUTH_GOOGLE_CLIENT_SECRET", "gs"),
            ("LECTERN_OIDC_CLIENT_ID", "c"),
            ("LECTERN_OIDC_CLIENT_SECRET", "s"),
            ("LECTERN_OIDC_ISSUER", "https://sso.example.com/"),
            ("LECTERN_OIDC_NAME", "Example SSO"),
        ]),
        &Overrides::default(),
    )
    .unwrap();
    let ids: Vec<_> = s.oauth_providers.iter().map(|p| (p.id, p.name.as_str())).collect();
    assert_eq!(ids, [("google", "Google"), ("oidc", "Example SSO")]);
    assert_eq!(s.oauth_providers[1].kind, OAuthKind::Oidc { issuer: "https://sso.example.com".into() });
}

#[test]
fn a_cluster_node_names_each_backend_it_lacks() {
    let shared = [
        ("DATABASE_URL", "postgres://lectern@db/lectern"),
        ("QDRANT_URL", "http://qdrant:6334"),
        ("REDIS_URL", "redis://cache:6379/"),
        ("LECTERN_BLOB_STORE", "s3://uploads/lectern"),
        ("LECTERN_JWT_SECRET", "0123456789abcdef0123456789abcdef"),
    ];
    let mut env = vars(&shared);
    env.insert("LECTERN_NODE_MODE".into(), "cluster".into());
    assert!(Settings::from_vars(&env, &Overrides::default()).unwrap().cluster);
    env.remove("REDIS_URL");
    env.insert("LECTERN_BLOB_STORE".into(), "local".into());
    let error = Settings::from_vars(&env, &Overrides::default()).unwrap_err().to_string();
    assert!(error.contains("REDIS_URL") && error.contains("LECTERN_BLOB_STORE"), "{error}");
    assert!(!error.contains("QDRANT_URL") && !error.contains("DATABASE_URL"), "only what is missing: {error}");
}

#[test]
fn secrets_never_print() {
    let env = vars(&[
        ("DATABASE_URL", "postgres://u:topsecret@h/db"),
        ("QDRANT_API_KEY", "k3y"),
        ("REDIS_URL", "redis://:redispass@cache:6379/0"),
        ("LECTERN_BLOB_STORE", "s3://docs/lectern"),
        ("LECTERN_S3_ENDPOINT", "http://minio:9000"),
        ("LECTERN_S3_ACCESS_KEY_ID", "AKID"),
        ("LECTERN_S3_SECRET_ACCESS_KEY", "s3cr3t"),
    ]);
    let s = Settings::from_vars(&env, &Overrides::default()).unwrap();
    let printed = format!("{s:?}");
    for secret in ["topsecret", "k3y", "redispass", "s3cr3t"] {
        assert!(!printed.contains(secret), "{secret}: {printed}");
    }
    let s3 = s.blob_s3.as_ref().unwrap();
    assert_eq!((s3.bucket.as_str(), s3.prefix.as_str(), s3.path_style), ("docs", "lectern", true));
    assert_eq!(s.database_backend, DatabaseBackend::Postgres);
}
