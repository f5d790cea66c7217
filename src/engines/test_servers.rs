//! The servers `.ci/test` starts for the scale-out backends' tests (a Qdrant server, an S3
//! server), found through `LECTERN_TEST_*` variables. A run that says it has them
//! (`LECTERN_TEST_REQUIRE_SERVERS=1`) fails rather than skips a test whose server is missing.

/// The URL in `var`, or None (the test returns early) when this run has no such server.
pub fn url(var: &str) -> Option<String> {
    let url = std::env::var(var).ok().filter(|u| !u.is_empty());
    if url.is_none() {
        assert!(
            std::env::var("LECTERN_TEST_REQUIRE_SERVERS").as_deref() != Ok("1"),
            "{var} is not set, but this run requires its server"
        );
        eprintln!("{var} is not set: this backend is not exercised in this run");
    }
    url
}
