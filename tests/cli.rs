//! The binary's command line: help, start-up validation, and stopping on SIGTERM.

mod common;

use std::process::Command;

fn tve_activate(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tve-activate"))
        .args(args)
        .output()
        .expect("binary runs")
}

#[test]
fn help_lists_every_setting_with_its_environment_variable() {
    let output = tve_activate(&["--help"]);
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).expect("utf-8");
    for (flag, env) in [
        ("--listen", "TVE_LISTEN"),
        ("--public-url", "TVE_PUBLIC_URL"),
        ("--adobe-pass-url", "TVE_ADOBE_PASS_URL"),
        ("--service-provider", "TVE_SERVICE_PROVIDER"),
        ("--software-statement", "TVE_SOFTWARE_STATEMENT"),
        ("--software-statement-file", "TVE_SOFTWARE_STATEMENT_FILE"),
        ("--domain-name", "TVE_DOMAIN_NAME"),
        ("--store-url", "TVE_STORE_URL"),
        ("--log-format", "TVE_LOG_FORMAT"),
        ("--site-root", "LEPTOS_SITE_ROOT"),
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
        assert!(
            help.contains(&format!("[env: {env}")),
            "{env} missing from --help"
        );
    }
}

fn assert_one_clear_line(output: &std::process::Output, setting: &str) {
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line, got: {stderr}");
    assert!(lines[0].contains(setting), "{setting} named in: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn malformed_public_url_exits_with_one_clear_line() {
    let output = tve_activate(&["--public-url", "http//missing-colon"]);
    assert_one_clear_line(&output, "--public-url");
}

#[test]
fn unreadable_software_statement_file_exits_with_one_clear_line() {
    let output = tve_activate(&[
        "--adobe-pass-url",
        "https://sp.auth-staging.adobe.com",
        "--software-statement-file",
        "/nonexistent/statement.jwt",
    ]);
    assert_one_clear_line(&output, "--software-statement-file");
}

#[test]
fn invalid_environment_value_is_named_too() {
    let output = Command::new(env!("CARGO_BIN_EXE_tve-activate"))
        .env("TVE_STORE_URL", "mysql://nope")
        .output()
        .expect("binary runs");
    assert_one_clear_line(&output, "--store-url");
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let server = common::Server::start(&[]);
    let status = server.terminate();
    assert!(status.success(), "exit status {status}");
}

#[test]
fn an_unreachable_postgres_stops_the_start_with_one_line_naming_the_setting() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = common::sealing_key_file(dir.path());
    let port = common::free_port();
    let output = Command::new(env!("CARGO_BIN_EXE_tve-activate"))
        .args(["--listen", &format!("127.0.0.1:{}", common::free_port())])
        .args(["--internal-listen", "127.0.0.1:0"])
        .args(["--adobe-pass-url", "http://127.0.0.1:9"])
        .args(["--software-statement", "eyJ.statement"])
        .args([
            "--store-url",
            &format!("postgres://tve:hunter2@127.0.0.1:{port}/tve"),
        ])
        .args(["--secrets-key-file", &key])
        .args(["--redis-url", "redis://127.0.0.1:9"])
        .env("RUST_LOG", "off")
        .output()
        .expect("binary runs");
    assert_one_clear_line(&output, "--store-url");
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("hunter2"),
        "the password is never shown"
    );
}

#[test]
fn a_brand_file_with_a_low_contrast_accent_exits_with_one_clear_line() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("brand.toml");
    std::fs::write(&file, "name = \"Pale TV\"\naccent = \"#8fb0ff\"\n").expect("write");
    let output = tve_activate(&["--brand-file", file.to_str().expect("path")]);
    assert_one_clear_line(&output, "--brand-file");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("WCAG AA needs 4.5:1"), "{stderr}");
}
