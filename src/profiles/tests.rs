//! Archive safety, `inspec.yml` validation and whole-profile reading. The `testdata`
//! archives were written by the real `inspec archive` (4.37.21) from
//! `testdata/ssh-baseline`; the expected sha256 values and control values are what
//! `inspec json` reported for them.

use std::io::{Cursor, Write};

use flate2::write::GzEncoder;
use flate2::Compression;
use tar::EntryType;

use super::*;

const SSH_TAR_GZ: &[u8] = include_bytes!("testdata/ssh-baseline-1.2.0.tar.gz");
const SSH_ZIP: &[u8] = include_bytes!("testdata/ssh-baseline-1.2.0.zip");
const WRAP_TAR_GZ: &[u8] = include_bytes!("testdata/wrap-0.1.0.tar.gz");
/// `inspec json` of ssh-baseline, 4.37.21 and 5.22.40 alike.
const SSH_CONTENT_SHA256: &str = "2d6fa93be5ab01187d2210f13f432bea7f5351ab75fe309ccf0f93782a1da2d7";
/// `inspec json` of wrap-0.1.0.tar.gz (ssh-baseline vendored as a dependency).
const WRAP_CONTENT_SHA256: &str =
    "dcd4ff71b469b73e8891447c9e32bc1db5fb7d1727fe05f92ca2446a1b0189f0";

/// The fixture profile's files, as they are in `testdata/ssh-baseline`.
fn fixture() -> Vec<(&'static str, &'static [u8])> {
    vec![
        (
            "README.md",
            include_bytes!("testdata/ssh-baseline/README.md"),
        ),
        (
            "controls/nested/tmp.rb",
            include_bytes!("testdata/ssh-baseline/controls/nested/tmp.rb"),
        ),
        (
            "controls/ssh_spec.rb",
            include_bytes!("testdata/ssh-baseline/controls/ssh_spec.rb"),
        ),
        (
            "files/data.txt",
            include_bytes!("testdata/ssh-baseline/files/data.txt"),
        ),
        (
            "inspec.yml",
            include_bytes!("testdata/ssh-baseline/inspec.yml"),
        ),
        (
            "libraries/helper.rb",
            include_bytes!("testdata/ssh-baseline/libraries/helper.rb"),
        ),
    ]
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// A tar.gz written header by header, so hostile names and entry types (which
/// `tar::Builder`'s path helpers refuse) can be built.
fn raw_tar_gz(entries: &[(&str, EntryType, &[u8], Option<&str>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, kind, data, link) in entries {
        let mut h = tar::Header::new_gnu();
        let gnu = h.as_gnu_mut().unwrap();
        gnu.name[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(l) = link {
            gnu.linkname[..l.len()].copy_from_slice(l.as_bytes());
        }
        h.set_entry_type(*kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    gz(&b.into_inner().unwrap())
}

fn tar_gz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let raw: Vec<_> = entries
        .iter()
        .map(|(n, d)| (*n, EntryType::Regular, *d, None))
        .collect();
    raw_tar_gz(&raw)
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        if name.ends_with('/') {
            w.add_directory(*name, opts).unwrap();
        } else {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
    }
    w.finish().unwrap().into_inner()
}

const MINIMAL_YML: &[u8] = b"name: tiny\nversion: 0.1.0\n";

fn small_limits() -> Limits {
    Limits {
        max_entries: 10,
        max_unpacked_bytes: 1024 * 1024,
    }
}

fn err(bytes: &[u8], limits: &Limits) -> ProfileError {
    read_profile(bytes, limits).expect_err("the archive must be refused")
}

// --- whole profiles -------------------------------------------------------------------

fn assert_ssh_baseline(p: &Profile) {
    let m = &p.metadata;
    assert_eq!(m.name, "ssh-baseline");
    assert_eq!(m.version, "1.2.0");
    assert_eq!(m.semver, semver::Version::new(1, 2, 0));
    assert_eq!(
        m.title.as_deref(),
        Some("SSH Baseline (Brigade test profile)")
    );
    assert_eq!(m.license.as_deref(), Some("Apache-2.0"));
    assert_eq!(m.copyright_email.as_deref(), Some("tests@example.com"));
    assert_eq!(m.inspec_version.as_deref(), Some(">= 4.0"));
    assert_eq!(
        serde_json::to_value(&m.supports).unwrap(),
        serde_json::json!([
            {"platform-family": "linux"},
            {"platform-name": "ubuntu", "release": "18.04"}
        ])
    );
    assert_eq!(
        m.inputs,
        vec![serde_json::json!({"name": "ssh_port", "value": 22})]
    );
    assert_eq!(p.content_sha256, SSH_CONTENT_SHA256);
    assert!(p.unresolved_dependencies.is_empty());

    let keys: Vec<&str> = p.rules.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(keys, ["controls/nested/tmp", "controls/ssh_spec"]);
    assert_eq!(p.rules[0].title, None);
    assert_eq!(
        p.rules[1].title.as_deref(),
        Some("SSH server configuration")
    );
    let got: Vec<(&str, f64, Option<&str>)> = p
        .rules
        .iter()
        .flat_map(|f| &f.controls)
        .map(|c| (c.id.as_str(), c.impact, c.title.as_deref()))
        .collect();
    // The ids, impacts and titles `inspec json` reports (its generated control for the
    // bare `describe` aside).
    assert_eq!(
        got,
        [
            ("tmp-1.0", 1.0, Some("Create /tmp directory")),
            ("tmp-2.0", 0.4, Some("A title continued on the next line")),
            ("tmp-3.0", 0.0, Some("Negative impact")),
            ("legacy-rule", 0.3, Some("A legacy rule")),
            ("ssh-01", 0.7, Some("Server: Check for secure ssh ciphers")),
            ("ssh-02", 0.7, Some("Server: Do not permit root login")),
            ("ssh-03", 0.9, Some("Server: Use protocol 'v2' only")),
        ]
    );
    let descs: Vec<Option<&str>> = p
        .rules
        .iter()
        .flat_map(|f| &f.controls)
        .map(|c| c.desc.as_deref())
        .collect();
    assert_eq!(
        descs,
        [
            Some("An optional description with \"escaped\" quotes and a tab:\t."),
            Some("Indented heredoc: keeps its indentation."),
            Some("Single 'quoted' with a backslash \\ and \\n kept"),
            None,
            Some("Configure a list of ciphers to the best secure ciphers (avoid older and weaker ciphers)"),
            Some("Root login over SSH gives an attacker\n  a direct path to the system."),
            Some("Protocol (version) 1 is \"broken\""),
        ]
    );
    let ssh01 = &p.rules[1].controls[0];
    assert_eq!(
        ssh01.descriptions,
        [
            Description {
                label: "default".into(),
                data: "Configure a list of ciphers to the best secure ciphers (avoid older and weaker ciphers)".into()
            },
            Description {
                label: "rationale".into(),
                data: "Weak ciphers \"leak\" data".into()
            },
        ]
    );
    assert_eq!(p.control_count(), 7);
}

#[test]
fn inspec_archive_tar_gz_reads_as_inspec_json_reports_it() {
    let p = read_profile(SSH_TAR_GZ, &Limits::default()).unwrap();
    assert_eq!(p.format, ArchiveFormat::TarGz);
    assert_eq!(p.archive_sha256, hex::encode(Sha256::digest(SSH_TAR_GZ)));
    assert_ne!(p.archive_sha256, p.content_sha256);
    // inspec archive adds inspec.lock and inspec.json to the six source files.
    assert_eq!(p.file_count, 8);
    assert!(p.files.contains_key("inspec.json"));
    assert_ssh_baseline(&p);
}

#[test]
fn inspec_archive_zip_reads_the_same_as_its_tar_gz() {
    let z = read_profile(SSH_ZIP, &Limits::default()).unwrap();
    let t = read_profile(SSH_TAR_GZ, &Limits::default()).unwrap();
    assert_eq!(z.format, ArchiveFormat::Zip);
    assert_ssh_baseline(&z);
    assert_eq!(z.metadata, t.metadata);
    assert_eq!(z.rules, t.rules);
    assert_eq!(z.content_sha256, t.content_sha256);
    assert_eq!(
        z.files.keys().collect::<Vec<_>>(),
        t.files.keys().collect::<Vec<_>>()
    );
}

#[test]
fn our_zip_and_tar_gz_of_the_fixture_agree_with_inspec() {
    let files = fixture();
    let t = read_profile(&tar_gz(&files), &Limits::default()).unwrap();
    let z = read_profile(&zip_of(&files), &Limits::default()).unwrap();
    assert_ssh_baseline(&t);
    assert_ssh_baseline(&z);
    assert_eq!(t.file_count, 6);
    assert_eq!(
        t.unpacked_bytes,
        files.iter().map(|(_, d)| d.len() as u64).sum::<u64>()
    );
}

#[test]
fn vendored_dependency_enters_content_sha256() {
    let p = read_profile(WRAP_TAR_GZ, &Limits::default()).unwrap();
    assert_eq!(p.metadata.name, "wrap");
    assert!(p.unresolved_dependencies.is_empty());
    assert_eq!(p.content_sha256, WRAP_CONTENT_SHA256);
    // Only the wrapper's own control: the override inside include_controls is skipped,
    // and the vendored profile's files are not this profile's rules.
    assert_eq!(p.rules.len(), 1);
    assert_eq!(p.rules[0].key, "controls/wrap");
    let ids: Vec<_> = p.rules[0].controls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["wrap-1"]);
    assert_eq!(p.rules[0].controls[0].impact, 0.2);
}

#[test]
fn dependency_without_vendored_copy_is_reported_unresolved() {
    let yml = b"name: wrap\nversion: 0.1.0\ndepends:\n  - name: linux-baseline\n    url: https://example.com/l.tar.gz\n";
    let p = read_profile(&tar_gz(&[("inspec.yml", yml)]), &Limits::default()).unwrap();
    assert_eq!(p.unresolved_dependencies, ["linux-baseline"]);
    assert_eq!(p.metadata.depends.len(), 1);
    // Without deps the dump is `--- {}`: the same hash as with no dependency at all.
    assert_eq!(p.content_sha256, content_sha256(&p.files, &[]));
}

#[test]
fn content_sha256_covers_only_what_inspec_hashes() {
    let base: ArchiveFiles = fixture()
        .into_iter()
        .map(|(p, d)| (p.to_string(), d.to_vec()))
        .collect();
    assert_eq!(content_sha256(&base, &[]), SSH_CONTENT_SHA256);
    let mut more = base.clone();
    more.insert("README.md".into(), b"changed".to_vec());
    more.insert("inspec.json".into(), b"{}".to_vec());
    more.insert("controls/notes.txt".into(), b"not ruby".to_vec());
    assert_eq!(content_sha256(&more, &[]), SSH_CONTENT_SHA256);
    for path in [
        "controls/new.rb",
        "libraries/x/y.rb",
        "files/deep/data.bin",
        "inspec.yml",
    ] {
        let mut changed = base.clone();
        changed.insert(path.into(), b"x".to_vec());
        assert_ne!(content_sha256(&changed, &[]), SSH_CONTENT_SHA256, "{path}");
    }
}

#[test]
fn deps_yaml_dumps_as_psych_does() {
    assert_eq!(deps_yaml(&[]), "--- {}\n");
    let sha = "fd89ac883976a93ac2cc58ff88a08fcd3eda9a4968e1834b50c035fe5d420fbb";
    assert_eq!(
        deps_yaml(&[("ssh-baseline".into(), sha.into())]),
        format!("---\nssh-baseline: {sha}\n")
    );
    assert_eq!(yaml_scalar("yes"), "'yes'");
    assert_eq!(yaml_scalar("1.0"), "'1.0'");
    assert_eq!(yaml_scalar("12345"), "'12345'");
    assert_eq!(yaml_scalar("it's: odd"), "'it''s: odd'");
}

#[test]
fn single_top_level_directory_and_dot_slash_are_stripped() {
    let files = fixture();
    let wrapped: Vec<(String, &[u8])> = files
        .iter()
        .map(|(p, d)| (format!("./ssh-baseline-1.2.0/{p}"), *d))
        .collect();
    let mut raw: Vec<(&str, EntryType, &[u8], Option<&str>)> = vec![
        (
            "pax_global_header",
            EntryType::XGlobalHeader,
            b"52 comment=abc\n",
            None,
        ),
        ("./", EntryType::Directory, b"", None),
        ("./ssh-baseline-1.2.0/", EntryType::Directory, b"", None),
    ];
    raw.extend(
        wrapped
            .iter()
            .map(|(p, d)| (p.as_str(), EntryType::Regular, *d, None)),
    );
    let p = read_profile(&raw_tar_gz(&raw), &Limits::default()).unwrap();
    let keys: Vec<&str> = p.files.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "README.md",
            "controls/nested/tmp.rb",
            "controls/ssh_spec.rb",
            "files/data.txt",
            "inspec.yml",
            "libraries/helper.rb"
        ]
    );
    assert_ssh_baseline(&p);

    // A zip with the wrapping directory (as GitHub's "download zip" makes).
    let zipped: Vec<(String, &[u8])> = files
        .iter()
        .map(|(p, d)| (format!("ssh-baseline-main/{p}"), *d))
        .collect();
    let mut entries: Vec<(&str, &[u8])> = vec![("ssh-baseline-main/", b"")];
    entries.extend(zipped.iter().map(|(p, d)| (p.as_str(), *d)));
    assert_ssh_baseline(&read_profile(&zip_of(&entries), &Limits::default()).unwrap());
}

#[test]
fn an_old_tar_readers_pax_global_header_file_is_ignored() {
    let bytes = tar_gz(&[
        ("pax_global_header", b"52 comment=x\n"),
        ("inspec.yml", MINIMAL_YML),
    ]);
    let p = read_profile(&bytes, &Limits::default()).unwrap();
    assert_eq!(p.files.keys().collect::<Vec<_>>(), ["inspec.yml"]);
}

#[test]
fn compliance_rules_have_the_compliance_api_shape() {
    let p = read_profile(SSH_TAR_GZ, &Limits::default()).unwrap();
    let rules = p.compliance_rules();
    assert_eq!(
        rules["controls/ssh_spec"],
        serde_json::json!({
            "title": "SSH server configuration",
            "rules": {
                "ssh-01": {"impact": 0.7, "title": "Server: Check for secure ssh ciphers",
                           "desc": "Configure a list of ciphers to the best secure ciphers (avoid older and weaker ciphers)"},
                "ssh-02": {"impact": 0.7, "title": "Server: Do not permit root login",
                           "desc": "Root login over SSH gives an attacker\n  a direct path to the system."},
                "ssh-03": {"impact": 0.9, "title": "Server: Use protocol 'v2' only",
                           "desc": "Protocol (version) 1 is \"broken\""},
            }
        })
    );
    assert_eq!(
        rules["controls/nested/tmp"]["title"],
        serde_json::Value::Null
    );
    assert_eq!(
        rules["controls/nested/tmp"]["rules"]["legacy-rule"]["desc"],
        serde_json::Value::Null
    );
}

#[test]
fn legacy_test_dir_is_read_when_there_is_no_controls_dir() {
    let rule = b"rule 'old-1' do\n  impact 1.0\n  title 'Old style'\nend\n";
    let bytes = tar_gz(&[
        ("inspec.yml", MINIMAL_YML),
        ("spec/spec_helper.rb", b"require 'rspec'\n"),
        ("test/ssh_spec.rb", rule),
    ]);
    let p = read_profile(&bytes, &Limits::default()).unwrap();
    assert_eq!(p.rules.len(), 1);
    assert_eq!(p.rules[0].key, "test/ssh_spec");
    assert_eq!(p.rules[0].controls[0].id, "old-1");
    assert_eq!(p.rules[0].controls[0].impact, 1.0);
}

#[test]
fn canonical_tar_gz_is_deterministic_and_reads_back() {
    let z = read_profile(SSH_ZIP, &Limits::default()).unwrap();
    let mut files = z.files.clone();
    let long = format!("files/{}/data.txt", "d".repeat(120));
    files.insert(long.clone(), b"long path".to_vec());
    let a = canonical_tar_gz(&files).unwrap();
    let b = canonical_tar_gz(&files).unwrap();
    assert_eq!(a, b);
    assert_eq!(detect_format(&a), Some(ArchiveFormat::TarGz));
    let t = read_profile(&a, &Limits::default()).unwrap();
    assert_eq!(t.files, files);
    assert_eq!(t.metadata, z.metadata);
    assert_eq!(t.rules, z.rules);
    assert_ne!(
        t.content_sha256, z.content_sha256,
        "the long files/ path is hashed"
    );

    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(a.as_slice()));
    for entry in archive.entries().unwrap() {
        let h = entry.unwrap().header().clone();
        assert_eq!(h.mode().unwrap(), 0o644);
        assert_eq!(h.uid().unwrap(), 0);
        assert_eq!(h.mtime().unwrap(), 946_684_800);
    }
}

// --- hostile archives -------------------------------------------------------------------

#[test]
fn not_an_archive_is_refused() {
    assert_eq!(
        err(b"hello, world", &Limits::default()),
        ProfileError::NotAnArchive
    );
    assert_eq!(err(b"", &Limits::default()), ProfileError::NotAnArchive);
    assert_eq!(
        ProfileError::NotAnArchive.to_string(),
        "not a tar.gz or zip archive"
    );
}

#[test]
fn truncated_archives_are_corrupt() {
    let bytes = tar_gz(&fixture());
    assert!(matches!(
        err(&bytes[..bytes.len() / 2], &Limits::default()),
        ProfileError::Corrupt(_)
    ));
    let z = zip_of(&fixture());
    assert!(matches!(
        err(&z[..z.len() - 30], &Limits::default()),
        ProfileError::Corrupt(_)
    ));
}

#[test]
fn absolute_paths_are_refused() {
    let t = tar_gz(&[("inspec.yml", MINIMAL_YML), ("/etc/cron.d/evil", b"x")]);
    assert_eq!(
        err(&t, &Limits::default()),
        ProfileError::AbsolutePath("/etc/cron.d/evil".into())
    );
    let z = zip_of(&[("inspec.yml", MINIMAL_YML), ("/etc/evil", b"x")]);
    assert_eq!(
        err(&z, &Limits::default()),
        ProfileError::AbsolutePath("/etc/evil".into())
    );
    let z = zip_of(&[("C:\\Windows\\evil.rb", b"x")]);
    assert_eq!(
        err(&z, &Limits::default()),
        ProfileError::AbsolutePath("C:/Windows/evil.rb".into())
    );
}

#[test]
fn parent_dir_components_are_refused() {
    let t = tar_gz(&[
        ("inspec.yml", MINIMAL_YML),
        ("controls/../../evil.rb", b"x"),
    ]);
    let e = err(&t, &Limits::default());
    assert_eq!(e, ProfileError::ParentDir("controls/../../evil.rb".into()));
    assert_eq!(
        e.to_string(),
        "archive entry \"controls/../../evil.rb\" has a '..' path component"
    );
    let z = zip_of(&[("inspec.yml", MINIMAL_YML), ("..\\evil.rb", b"x")]);
    assert_eq!(
        err(&z, &Limits::default()),
        ProfileError::ParentDir("../evil.rb".into())
    );
}

#[test]
fn symlinks_and_hardlinks_are_refused() {
    let t = raw_tar_gz(&[
        ("inspec.yml", EntryType::Regular, MINIMAL_YML, None),
        (
            "controls/passwd.rb",
            EntryType::Symlink,
            b"",
            Some("/etc/passwd"),
        ),
    ]);
    assert_eq!(
        err(&t, &Limits::default()),
        ProfileError::Link("controls/passwd.rb".into())
    );
    let t = raw_tar_gz(&[
        ("inspec.yml", EntryType::Regular, MINIMAL_YML, None),
        (
            "controls/again.yml",
            EntryType::Link,
            b"",
            Some("inspec.yml"),
        ),
    ]);
    assert_eq!(
        err(&t, &Limits::default()),
        ProfileError::Link("controls/again.yml".into())
    );

    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    w.start_file("inspec.yml", opts).unwrap();
    w.write_all(MINIMAL_YML).unwrap();
    w.add_symlink("files/shadow", "/etc/shadow", opts).unwrap();
    let z = w.finish().unwrap().into_inner();
    assert_eq!(
        err(&z, &Limits::default()),
        ProfileError::Link("files/shadow".into())
    );
}

#[test]
fn devices_and_fifos_are_refused() {
    for kind in [EntryType::Char, EntryType::Block, EntryType::Fifo] {
        let t = raw_tar_gz(&[
            ("inspec.yml", EntryType::Regular, MINIMAL_YML, None),
            ("files/dev", kind, b"", None),
        ]);
        assert_eq!(
            err(&t, &Limits::default()),
            ProfileError::SpecialFile("files/dev".into()),
            "{kind:?}"
        );
    }
}

#[test]
fn duplicate_entries_are_refused() {
    let t = tar_gz(&[
        ("inspec.yml", MINIMAL_YML),
        ("inspec.yml", b"name: other\nversion: 1.0.0\n"),
    ]);
    assert_eq!(
        err(&t, &Limits::default()),
        ProfileError::DuplicateEntry("inspec.yml".into())
    );
}

#[test]
fn too_many_entries_are_refused() {
    let names: Vec<String> = (0..11).map(|i| format!("files/{i}.txt")).collect();
    let mut entries: Vec<(&str, &[u8])> = vec![("inspec.yml", MINIMAL_YML)];
    entries.extend(names.iter().map(|n| (n.as_str(), &b"x"[..])));
    let limit = ProfileError::TooManyEntries { limit: 10 };
    assert_eq!(err(&tar_gz(&entries), &small_limits()), limit);
    assert_eq!(err(&zip_of(&entries), &small_limits()), limit);
    // Directory entries count too: a million empty headers are work as well.
    let dirs: Vec<String> = (0..11).map(|i| format!("d{i}/")).collect();
    let raw: Vec<_> = dirs
        .iter()
        .map(|d| (d.as_str(), EntryType::Directory, &b""[..], None))
        .collect();
    assert_eq!(err(&raw_tar_gz(&raw), &small_limits()), limit);
    assert!(limit.is_too_large());
}

/// 64 MiB of zeros in one tar entry, gzip-compressed to well under 1 MiB.
fn gzip_bomb(kind: EntryType) -> Vec<u8> {
    const SIZE: u64 = 64 * 1024 * 1024;
    let mut h = tar::Header::new_gnu();
    h.set_path("files/zeros.bin").unwrap();
    h.set_entry_type(kind);
    h.set_size(SIZE);
    h.set_mode(0o644);
    h.set_cksum();
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(h.as_bytes()).unwrap();
    let chunk = vec![0u8; 1024 * 1024];
    for _ in 0..SIZE / chunk.len() as u64 {
        enc.write_all(&chunk).unwrap();
    }
    enc.write_all(&[0u8; 1024]).unwrap();
    enc.finish().unwrap()
}

#[test]
fn gzip_bomb_stops_at_the_limit() {
    let bomb = gzip_bomb(EntryType::Regular);
    assert!(bomb.len() < 1024 * 1024, "compressed to {}", bomb.len());
    assert_eq!(
        err(&bomb, &small_limits()),
        ProfileError::FileTooLarge {
            entry: "files/zeros.bin".into(),
            limit: 1024 * 1024
        }
    );
    // The same bytes behind a directory header, whose data the tar reader skips
    // without handing it to us: the stream cap still stops it.
    let hidden = gzip_bomb(EntryType::Directory);
    assert_eq!(
        err(&hidden, &small_limits()),
        ProfileError::TooLarge { limit: 1024 * 1024 }
    );
}

#[test]
fn zip_bomb_stops_at_the_limit() {
    let zeros = vec![0u8; 8 * 1024 * 1024];
    let z = zip_of(&[("inspec.yml", MINIMAL_YML), ("files/zeros.bin", &zeros)]);
    assert!(z.len() < 100 * 1024);
    assert_eq!(
        err(&z, &small_limits()),
        ProfileError::FileTooLarge {
            entry: "files/zeros.bin".into(),
            limit: 1024 * 1024
        }
    );
}

#[test]
fn many_files_over_the_total_limit_are_refused() {
    let part = vec![7u8; 400 * 1024];
    let entries: Vec<(&str, &[u8])> = vec![
        ("inspec.yml", MINIMAL_YML),
        ("files/a", &part),
        ("files/b", &part),
        ("files/c", &part),
    ];
    let e = err(&tar_gz(&entries), &small_limits());
    assert_eq!(e, ProfileError::TooLarge { limit: 1024 * 1024 });
    assert_eq!(e.to_string(), "archive unpacks to more than 1048576 bytes");
    assert_eq!(err(&zip_of(&entries), &small_limits()), e);
}

// --- inspec.yml -------------------------------------------------------------------------

#[test]
fn missing_inspec_yml_is_refused() {
    let t = tar_gz(&[("controls/a.rb", b"control 'a' do\nend\n")]);
    let e = err(&t, &Limits::default());
    assert_eq!(e, ProfileError::MissingMetadata);
    assert_eq!(e.to_string(), "inspec.yml not found in the archive");
    // inspec.yml deeper than the profile root does not count.
    let t = tar_gz(&[("a/inspec.yml", MINIMAL_YML), ("b/controls/x.rb", b"")]);
    assert_eq!(err(&t, &Limits::default()), ProfileError::MissingMetadata);
}

#[test]
fn invalid_yaml_is_refused_with_its_location() {
    let e = parse_metadata(b"name: [unclosed\nversion: 1.0.0\n").unwrap_err();
    let ProfileError::InvalidYaml(msg) = &e else {
        panic!("{e:?}");
    };
    assert!(
        e.to_string().starts_with("unable to parse inspec.yml: "),
        "{e}"
    );
    assert!(msg.contains("line"), "{msg}");
    assert_eq!(
        parse_metadata(b"- just\n- a list\n").unwrap_err(),
        ProfileError::InvalidYaml("the document is not a mapping".into())
    );
    assert_eq!(
        parse_metadata(b"name: x\nversion: 1.0.0\n\xff\n").unwrap_err(),
        ProfileError::MetadataNotUtf8
    );
}

#[test]
fn name_and_version_are_required() {
    assert_eq!(
        parse_metadata(b"version: 1.0.0\n").unwrap_err(),
        ProfileError::MissingField("name")
    );
    assert_eq!(
        parse_metadata(b"").unwrap_err().to_string(),
        "Missing profile name in inspec.yml"
    );
    assert_eq!(
        parse_metadata(b"name: x\ntitle: no version\n").unwrap_err(),
        ProfileError::MissingField("version")
    );
}

#[test]
fn names_with_slashes_are_refused() {
    for name in ["owner/profile", "back\\\\slash"] {
        let yml = format!("name: \"{name}\"\nversion: 1.0.0\n");
        let e = parse_metadata(yml.as_bytes()).unwrap_err();
        assert!(matches!(e, ProfileError::NameWithSlash(_)), "{e:?}");
    }
    assert_eq!(
        parse_metadata(b"name: a/b\nversion: 1.0.0\n")
            .unwrap_err()
            .to_string(),
        "The profile name (a/b) contains a slash which is not permitted"
    );
}

#[test]
fn versions_follow_semverse() {
    let v = |s: &str| parse_version(s).map(|v| v.to_string());
    assert_eq!(v("1.2.3").as_deref(), Some("1.2.3"));
    assert_eq!(
        v("1.2.3-rc.1+build.5").as_deref(),
        Some("1.2.3-rc.1+build.5")
    );
    assert_eq!(v("1.0").as_deref(), Some("1.0.0"));
    assert_eq!(v("2").as_deref(), Some("2.0.0"));
    assert_eq!(v("1.2.").as_deref(), Some("1.2.0"));
    assert_eq!(v("01.2.3").as_deref(), Some("1.2.3"));
    for bad in [
        "",
        "v1.0.0",
        "1.2.3.4",
        "latest",
        "1.0.0-",
        "1..2",
        "1.2.3 beta",
    ] {
        assert_eq!(v(bad), None, "{bad:?}");
    }
    let e = parse_metadata(b"name: x\nversion: one point oh\n").unwrap_err();
    assert_eq!(e, ProfileError::InvalidVersion("one point oh".into()));
    assert_eq!(
        e.to_string(),
        "Version needs to be in SemVer format, got \"one point oh\""
    );
}

#[test]
fn numeric_yaml_versions_read_as_ruby_writes_them() {
    let m = parse_metadata(b"name: x\nversion: 1.0\n").unwrap();
    assert_eq!(m.version, "1.0");
    assert_eq!(m.semver, semver::Version::new(1, 0, 0));
    let m = parse_metadata(b"name: x\nversion: 3\n").unwrap();
    assert_eq!(m.version, "3");
    let m = parse_metadata(b"name: x\nversion: 1.25\n").unwrap();
    assert_eq!(m.semver, semver::Version::new(1, 25, 0));
}

#[test]
fn metadata_fields_are_tolerant_of_legacy_forms() {
    let yml = br#"
name: legacy
version: "0.9.0"
copyright: 2016
supports: linux
attributes:
  - name: user
    type: string
depends:
  name: single
  path: ../single
"#;
    let m = parse_metadata(yml).unwrap();
    assert_eq!(m.copyright.as_deref(), Some("2016"));
    assert_eq!(
        serde_json::to_value(&m.supports).unwrap(),
        serde_json::json!([{"platform-family": "linux"}])
    );
    assert_eq!(
        m.inputs,
        vec![serde_json::json!({"name": "user", "type": "string"})]
    );
    assert_eq!(
        m.depends,
        vec![serde_json::json!({"name": "single", "path": "../single"})]
    );
    assert_eq!(m.title, None);

    let yml = b"name: x\nversion: 1.0.0\nsupports:\n  - os-family: unix\n  - windows\n";
    let m = parse_metadata(yml).unwrap();
    assert_eq!(
        serde_json::to_value(&m.supports).unwrap(),
        serde_json::json!([{"platform-family": "unix"}, {"platform-family": "windows"}])
    );
    assert_eq!(
        parse_metadata(b"name: x\nversion: 1.0.0\ntitle: [a, b]\n").unwrap_err(),
        ProfileError::InvalidField {
            field: "title",
            reason: "must be a string"
        }
    );
    assert_eq!(
        parse_metadata(b"name: x\nversion: 1.0.0\ndepends: nope\n")
            .unwrap_err()
            .to_string(),
        "inspec.yml: depends must be a list"
    );
}

#[test]
fn metadata_errors_surface_through_read_profile() {
    let t = tar_gz(&[("inspec.yml", b"name: a/b\nversion: 1.0.0\n")]);
    assert_eq!(
        err(&t, &Limits::default()),
        ProfileError::NameWithSlash("a/b".into())
    );
    let z = zip_of(&[("inspec.yml", b"name: ok\nversion: x.y\n")]);
    assert_eq!(
        err(&z, &Limits::default()),
        ProfileError::InvalidVersion("x.y".into())
    );
    assert!(!ProfileError::MissingMetadata.is_too_large());
}
