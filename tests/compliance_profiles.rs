//! Compliance API profiles: raw tar.gz and zip uploads, multipart, listings whose sha256
//! is that of the bytes `/tar` returns, rules, versions, deletion, permissions, and
//! hostile archives (400/413, nothing stored).

mod common;
mod compliance_common;

use std::collections::BTreeMap;
use std::io::Write;

use common::TestServer;
use compliance_common::{call, get, login, user_with};
use serde_json::json;
use sha2::Digest;

const CONTROLS: &str = r#"
title 'SSH server'

control 'ssh-1' do
  impact 'high'
  title 'Root login is off'
  desc <<~EOS
    Root must not log in over SSH.
  EOS
  describe sshd_config do
    its('PermitRootLogin') { should eq 'no' }
  end
end

control "ssh-2" do
  impact 0.3
  title %q{Protocol 2}
  describe file('/etc/ssh/sshd_config') do
    it { should exist }
  end
end
"#;

fn files(version: &str) -> BTreeMap<String, Vec<u8>> {
    let mut f = BTreeMap::new();
    let yml = format!("name: ssh\ntitle: Basic SSH\nversion: {version}\nsummary: Verify SSH\nlicense: Apache-2.0\n");
    f.insert("inspec.yml".to_string(), yml.into_bytes());
    f.insert(
        "controls/ssh_spec.rb".to_string(),
        CONTROLS.as_bytes().to_vec(),
    );
    f
}

fn tar_gz(version: &str) -> Vec<u8> {
    brigade::profiles::canonical_tar_gz(&files(version)).unwrap()
}

fn zip_of(f: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for (name, data) in f {
        w.start_file(format!("ssh/{name}"), opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A tar.gz with one hostile entry (name and type written raw).
fn hostile(name: &str, kind: tar::EntryType, link: Option<&str>) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let yml = b"name: evil\nversion: 1.0.0\n";
    let mut h = tar::Header::new_gnu();
    h.set_path("inspec.yml").unwrap();
    h.set_size(yml.len() as u64);
    h.set_cksum();
    b.append(&h, &yml[..]).unwrap();
    let mut h = tar::Header::new_gnu();
    let gnu = h.as_gnu_mut().unwrap();
    gnu.name[..name.len()].copy_from_slice(name.as_bytes());
    if let Some(l) = link {
        gnu.linkname[..l.len()].copy_from_slice(l.as_bytes());
    }
    h.set_entry_type(kind);
    h.set_size(4);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, &b"evil"[..]).unwrap();
    gz(&b.into_inner().unwrap())
}

async fn post_raw(
    s: &TestServer,
    token: &str,
    path: &str,
    body: Vec<u8>,
    ctype: &str,
) -> common::Response {
    let req = s
        .client()
        .post(s.url(path))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", ctype)
        .header("session", "INSPEC-PROFILE-UPLOAD")
        .body(body);
    s.raw(req).await
}

async fn download(s: &TestServer, token: &str, path: &str) -> (u16, Option<String>, Vec<u8>) {
    let r = s
        .client()
        .get(s.url(path))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    let ctype = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    (
        r.status().as_u16(),
        ctype,
        r.bytes().await.unwrap().to_vec(),
    )
}

#[tokio::test]
async fn upload_list_show_download_delete() {
    let s = TestServer::start().await;
    user_with(&s, "alice", false, false, false).await;
    let t = login(&s, "alice").await;
    let archive = tar_gz("1.0.0");
    let r = post_raw(
        &s,
        &t,
        "/api/owners/alice/compliance/ssh/tar",
        archive.clone(),
        "application/x-gzip",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let r = get(&s, &t, "/api/user/compliance").await;
    let entry = &r.body["alice"]["ssh"];
    assert_eq!(entry["owner"], "alice");
    assert_eq!(entry["title"], "Basic SSH");
    assert_eq!(entry["version"], "1.0.0");
    let (status, ctype, bytes) = download(&s, &t, "/api/owners/alice/compliance/ssh/tar").await;
    assert_eq!(status, 200);
    assert_eq!(ctype.as_deref(), Some("application/x-gzip"));
    assert_eq!(bytes, archive, "byte-equal to what was uploaded");
    assert_eq!(entry["sha256"], hex::encode(sha2::Sha256::digest(&bytes)));

    let r = get(&s, &t, "/api/owners/alice/compliance/ssh").await;
    let rules = &r.body["rules"]["controls/ssh_spec"];
    assert_eq!(rules["title"], "SSH server");
    assert_eq!(rules["rules"]["ssh-1"]["impact"], 0.7);
    assert_eq!(rules["rules"]["ssh-1"]["title"], "Root login is off");
    assert_eq!(
        rules["rules"]["ssh-1"]["desc"],
        "Root must not log in over SSH."
    );
    assert_eq!(rules["rules"]["ssh-2"]["title"], "Protocol 2");

    // A newer version (zip, under a top-level folder) becomes the one shown and served.
    let r = post_raw(
        &s,
        &t,
        "/api/owners/alice/compliance/ssh/zip",
        zip_of(&files("1.1.0")),
        "application/zip",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = get(&s, &t, "/api/owners/alice/compliance").await;
    assert_eq!(r.body["ssh"]["version"], "1.1.0");
    let (_, _, bytes) = download(&s, &t, "/api/owners/alice/compliance/ssh/tar").await;
    assert_eq!(
        r.body["ssh"]["sha256"],
        hex::encode(sha2::Sha256::digest(&bytes))
    );
    let got = brigade::profiles::read_profile(&bytes, &Default::default()).unwrap();
    assert_eq!(got.metadata.version, "1.1.0");

    // The URL's name must be the archive's.
    let r = post_raw(
        &s,
        &t,
        "/api/owners/alice/compliance/other/tar",
        tar_gz("2.0.0"),
        "application/x-gzip",
    )
    .await;
    assert_eq!(r.status, 400);

    assert_eq!(
        call(
            &s,
            Some(&t),
            "DELETE",
            "/api/owners/alice/compliance/ssh",
            None
        )
        .await
        .status,
        200
    );
    assert_eq!(
        get(&s, &t, "/api/owners/alice/compliance/ssh").await.status,
        404
    );
    assert_eq!(
        get(&s, &t, "/api/owners/alice/compliance").await.body,
        json!({})
    );
    assert_eq!(
        call(
            &s,
            Some(&t),
            "DELETE",
            "/api/owners/alice/compliance/ssh",
            None
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn multipart_uploads_as_in_the_spec() {
    let s = TestServer::start().await;
    user_with(&s, "alice", false, false, false).await;
    let t = login(&s, "alice").await;
    for (q, body) in [
        ("application/x-gtar", tar_gz("1.0.0")),
        ("application/zip", zip_of(&files("1.2.0"))),
    ] {
        let boundary = "XyZbrigadeBoundary";
        let mut form = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        form.extend_from_slice(&body);
        form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let path = format!("/api/owners/alice/compliance?contentType={q}");
        let r = post_raw(
            &s,
            &t,
            &path,
            form,
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .await;
        assert_eq!(r.status, 200, "{q}: {}", r.text);
    }
    let r = get(&s, &t, "/api/owners/alice/compliance").await;
    assert_eq!(r.body["ssh"]["version"], "1.2.0");
    let r = post_raw(
        &s,
        &t,
        "/api/owners/alice/compliance",
        b"--x\r\n\r\n".to_vec(),
        "multipart/form-data; boundary=x",
    )
    .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn who_may_read_and_change_profiles() {
    let s = TestServer::start().await;
    user_with(&s, "owner", false, true, false).await;
    user_with(&s, "bob", false, false, false).await;
    user_with(&s, "eve", false, false, false).await;
    let owner = login(&s, "owner").await;
    let bob = login(&s, "bob").await;
    let eve = login(&s, "eve").await;
    call(
        &s,
        Some(&owner),
        "POST",
        "/api/orgs",
        Some(&json!({"name": "Acme", "login": "acme"})),
    )
    .await;
    let path = "/api/owners/acme/compliance/ssh/tar";
    assert_eq!(
        post_raw(&s, &eve, path, tar_gz("1.0.0"), "application/x-gzip")
            .await
            .status,
        403
    );
    assert_eq!(
        post_raw(
            &s,
            &eve,
            "/api/owners/owner/compliance/ssh/tar",
            tar_gz("1.0.0"),
            "application/x-gzip"
        )
        .await
        .status,
        403
    );
    assert_eq!(
        post_raw(&s, &owner, path, tar_gz("1.0.0"), "application/x-gzip")
            .await
            .status,
        200
    );
    assert_eq!(
        get(&s, &eve, "/api/owners/acme/compliance").await.status,
        403,
        "not a member"
    );
    assert!(get(&s, &eve, "/api/user/compliance")
        .await
        .body
        .get("acme")
        .is_none());

    // A team without `manage` reads; with it, changes.
    let r = call(
        &s,
        Some(&owner),
        "POST",
        "/api/orgs/acme/teams",
        Some(&json!({"name": "scan", "permissions": {"scan": "true"}})),
    )
    .await;
    let team = r.body["id"].as_str().unwrap().to_string();
    call(
        &s,
        Some(&owner),
        "POST",
        &format!("/api/orgs/acme/teams/{team}/members"),
        Some(&json!(["bob"])),
    )
    .await;
    assert_eq!(
        get(&s, &bob, "/api/owners/acme/compliance").await.status,
        200
    );
    assert_eq!(
        get(&s, &bob, "/api/user/compliance").await.body["acme"]["ssh"]["version"],
        "1.0.0"
    );
    assert_eq!(
        post_raw(&s, &bob, path, tar_gz("1.1.0"), "application/x-gzip")
            .await
            .status,
        403
    );
    call(
        &s,
        Some(&owner),
        "PATCH",
        &format!("/api/orgs/acme/teams/{team}"),
        Some(&json!({"permissions": {"manage": "true"}})),
    )
    .await;
    assert_eq!(
        post_raw(&s, &bob, path, tar_gz("1.1.0"), "application/x-gzip")
            .await
            .status,
        200
    );
    assert_eq!(
        get(&s, &bob, "/api/owners/nobody/compliance").await.status,
        404
    );
    assert_eq!(
        call(&s, None, "GET", "/api/owners/acme/compliance", None)
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn hostile_archives_store_nothing() {
    let s = TestServer::start_with(|c| {
        c.compliance.profile_max_unpacked_bytes = 1_000_000;
        c.compliance.profile_max_entries = 50;
    })
    .await;
    user_with(&s, "alice", false, false, false).await;
    let t = login(&s, "alice").await;
    let path = "/api/owners/alice/compliance/evil/tar";
    let mut cases: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "absolute path",
            hostile("/etc/passwd", tar::EntryType::Regular, None),
            400,
        ),
        (
            "dot-dot",
            hostile("controls/../../x.rb", tar::EntryType::Regular, None),
            400,
        ),
        (
            "symlink",
            hostile(
                "controls/x.rb",
                tar::EntryType::Symlink,
                Some("/etc/shadow"),
            ),
            400,
        ),
        (
            "hardlink",
            hostile("controls/x.rb", tar::EntryType::Link, Some("inspec.yml")),
            400,
        ),
        (
            "device",
            hostile("controls/dev", tar::EntryType::Char, None),
            400,
        ),
        (
            "not an archive",
            b"just some text, not an archive".to_vec(),
            400,
        ),
        (
            "corrupt gzip",
            vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3],
            400,
        ),
    ];
    let mut no_yml = files("1.0.0");
    no_yml.remove("inspec.yml");
    cases.push((
        "no inspec.yml",
        brigade::profiles::canonical_tar_gz(&no_yml).unwrap(),
        400,
    ));
    let mut bad_version = files("1.0.0");
    bad_version.insert(
        "inspec.yml".into(),
        b"name: evil\nversion: banana\n".to_vec(),
    );
    cases.push((
        "bad version",
        brigade::profiles::canonical_tar_gz(&bad_version).unwrap(),
        400,
    ));
    let mut bad_yaml = files("1.0.0");
    bad_yaml.insert("inspec.yml".into(), b"name: [unclosed\n".to_vec());
    cases.push((
        "bad yaml",
        brigade::profiles::canonical_tar_gz(&bad_yaml).unwrap(),
        400,
    ));
    let mut slash = files("1.0.0");
    slash.insert("inspec.yml".into(), b"name: a/b\nversion: 1.0.0\n".to_vec());
    cases.push((
        "name with slash",
        brigade::profiles::canonical_tar_gz(&slash).unwrap(),
        400,
    ));
    let mut bomb = files("1.0.0");
    bomb.insert("files/zeros".into(), vec![0u8; 5_000_000]);
    cases.push((
        "decompression bomb",
        brigade::profiles::canonical_tar_gz(&bomb).unwrap(),
        413,
    ));
    let mut many = files("1.0.0");
    for i in 0..60 {
        many.insert(format!("files/f{i}"), vec![b'x']);
    }
    cases.push((
        "too many entries",
        brigade::profiles::canonical_tar_gz(&many).unwrap(),
        413,
    ));

    for (what, body, want) in cases {
        let r = post_raw(&s, &t, path, body, "application/x-gzip").await;
        assert_eq!(r.status, want, "{what}: {}", r.text);
        assert!(r.body["message"].is_string(), "{what}: {}", r.text);
    }
    assert_eq!(
        get(&s, &t, "/api/owners/alice/compliance").await.body,
        json!({})
    );
    let blobs = s.state.blobs.list().await.unwrap();
    assert!(
        blobs.iter().all(|(k, _)| !k.starts_with("profiles/")),
        "{blobs:?}"
    );
}

#[tokio::test]
async fn a_body_over_the_file_limit_is_413() {
    let s = TestServer::start_with(|c| c.limits.max_file_bytes = 100_000).await;
    user_with(&s, "alice", false, false, false).await;
    let t = login(&s, "alice").await;
    let r = post_raw(
        &s,
        &t,
        "/api/owners/alice/compliance/ssh/tar",
        vec![0u8; 200_000],
        "application/x-gzip",
    )
    .await;
    assert_eq!(r.status, 413);
}
