//! The architecture invariants of ARCHITECTURE.md that the compiler can be made to enforce:
//! who may depend on whom. A change that breaks one fails here.

use std::collections::{BTreeSet, HashMap};

fn normal_dependency_graph() -> HashMap<String, Vec<String>> {
    let output = std::process::Command::new(env!("CARGO"))
        // Not --offline: a fresh machine may lack crates of other platforms (cargo fetches them).
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("metadata JSON");
    let names: HashMap<String, String> = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap_or_default().to_owned(),
                p["name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let mut graph = HashMap::new();
    for node in metadata["resolve"]["nodes"].as_array().expect("nodes") {
        let name = names[node["id"].as_str().expect("id")].clone();
        let deps = node["deps"]
            .as_array()
            .expect("deps")
            .iter()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k["kind"].is_null()))
            })
            .map(|d| names[d["pkg"].as_str().expect("pkg")].clone())
            .collect();
        graph.insert(name, deps);
    }
    graph
}

fn reachable(graph: &HashMap<String, Vec<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_owned()];
    while let Some(crate_name) = stack.pop() {
        for dep in graph.get(&crate_name).into_iter().flatten() {
            if seen.insert(dep.clone()) {
                stack.push(dep.clone());
            }
        }
    }
    seen
}

#[test]
fn the_public_site_cannot_reach_any_key_that_reads_data_back() {
    let graph = normal_dependency_graph();
    let public = reachable(&graph, "madoguchi-public");
    assert!(
        !public.contains("madoguchi-keyring"),
        "madoguchi-public must not depend on madoguchi-keyring"
    );
    assert!(
        !public.contains("madoguchi-core-open"),
        "madoguchi-public must not depend on madoguchi-core-open"
    );
    assert!(
        !public.contains("madoguchi-office"),
        "the public site shares nothing with the back office"
    );
}

#[test]
fn no_server_crate_can_open_a_sealed_secret() {
    let graph = normal_dependency_graph();
    for server_crate in [
        "madoguchi-public",
        "madoguchi-office",
        "madoguchi-store",
        "madoguchi-mail",
        "madoguchi-keyring",
        "madoguchi-http",
    ] {
        assert!(
            !reachable(&graph, server_crate).contains("madoguchi-core-open"),
            "{server_crate} must not depend on madoguchi-core-open (only the `core` tool may)"
        );
    }
}

#[test]
fn the_domain_does_no_io_and_knows_no_http_sql_or_keys() {
    let graph = normal_dependency_graph();
    let domain = reachable(&graph, "madoguchi-domain");
    for forbidden in [
        "tokio",
        "axum",
        "sqlx",
        "hyper",
        "hpke",
        "madoguchi-seal",
        "madoguchi-store",
        "lettre",
    ] {
        assert!(
            !domain.contains(forbidden),
            "madoguchi-domain must not depend on {forbidden}"
        );
    }
}

#[test]
fn only_the_store_speaks_sql() {
    let graph = normal_dependency_graph();
    for crate_name in [
        "madoguchi-public",
        "madoguchi-office",
        "madoguchi-http",
        "madoguchi-domain",
        "madoguchi-seal",
    ] {
        let direct = graph.get(crate_name).cloned().unwrap_or_default();
        assert!(
            !direct.iter().any(|d| d == "sqlx"),
            "{crate_name} must not use sqlx directly"
        );
    }
}

#[test]
fn identity_documents_are_written_by_a_crate_that_cannot_read_them_back() {
    let graph = normal_dependency_graph();
    assert!(
        reachable(&graph, "madoguchi-public").contains("madoguchi-documents"),
        "the public site stores uploads through madoguchi-documents"
    );
    let documents = reachable(&graph, "madoguchi-documents");
    for forbidden in [
        // The public site depends on it: it must not bring a private key along.
        "madoguchi-keyring",
        "madoguchi-core-open",
        // One job: files or objects. The rows are the store's, written by the caller.
        "madoguchi-store",
        "sqlx",
        // No HTTP server.
        "axum",
    ] {
        assert!(
            !documents.contains(forbidden),
            "madoguchi-documents must not depend on {forbidden}"
        );
    }
    // The only network it speaks is the S3 client of its feature `s3` (object_store), which
    // carries ciphertext only: without it, no HTTP at all.
    let mut without_s3 = graph.clone();
    if let Some(deps) = without_s3.get_mut("madoguchi-documents") {
        deps.retain(|d| d != "object_store");
    }
    let files_only = reachable(&without_s3, "madoguchi-documents");
    for forbidden in ["hyper", "reqwest"] {
        assert!(
            !files_only.contains(forbidden),
            "madoguchi-documents must not depend on {forbidden} but through object_store"
        );
    }
}

/// `cargo tree -i PACKAGE` over every target: what depends on `package` (empty: nothing).
fn dependents(package: &str) -> String {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "tree", "--locked", "-e", "normal", "--target", "all", "-i", package,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() || stderr.contains("did not match any packages"),
        "{stderr}"
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn one_tls_provider_and_no_ring() {
    // sqlx, lettre and object_store's rustls all use aws-lc-rs: with ring as well, rustls could
    // not choose a default provider by itself.
    assert_eq!(dependents("ring"), "", "nothing may bring ring");
    let aws_lc = dependents("aws-lc-rs");
    for user in ["sqlx", "lettre", "object_store"] {
        assert!(aws_lc.contains(user), "{user} uses aws-lc-rs:\n{aws_lc}");
    }
}

#[test]
fn the_handoff_format_links_no_server_and_no_private_key() {
    let graph = normal_dependency_graph();
    assert!(
        reachable(&graph, "madoguchi-core-open").contains("madoguchi-handoff"),
        "the core tool reads batches through madoguchi-handoff"
    );
    let handoff = reachable(&graph, "madoguchi-handoff");
    for forbidden in [
        // The core banking side links it: it must not bring the server's keys or storage.
        "madoguchi-keyring",
        "madoguchi-store",
        "madoguchi-office",
        "sqlx",
        "axum",
        // It writes batches with public keys only; opening is core-open's.
        "madoguchi-core-open",
    ] {
        assert!(
            !handoff.contains(forbidden),
            "madoguchi-handoff must not depend on {forbidden}"
        );
    }
    // The public site never signs a hand-off manifest: the signing key is the back office's.
    assert!(
        !reachable(&graph, "madoguchi-public").contains("madoguchi-handoff"),
        "madoguchi-public must not depend on madoguchi-handoff"
    );
}

#[test]
fn the_audit_chain_links_no_storage_web_or_server_private_key_crate() {
    let graph = normal_dependency_graph();
    let audit = reachable(&graph, "madoguchi-audit");
    // The chain, the checkpoint format and the verification walk: no storage, no web, no
    // server keys — an auditor's tool could link it alone.
    for forbidden in [
        "madoguchi-store",
        "madoguchi-keyring",
        "madoguchi-office",
        "madoguchi-public",
        "sqlx",
        "axum",
    ] {
        assert!(
            !audit.contains(forbidden),
            "madoguchi-audit must not depend on {forbidden}"
        );
    }
    assert!(
        reachable(&graph, "madoguchi-store").contains("madoguchi-audit"),
        "the store chains each event as it appends it"
    );
}
