//! The Ruby-subset control parser over control files written in the styles found in
//! real profiles.

use super::controls::*;

fn parse(src: &str) -> ControlFile {
    extract_controls("controls/test.rb", src)
}

/// (id, impact, title, desc) of every control.
fn summary(src: &str) -> Vec<(String, f64, Option<String>, Option<String>)> {
    parse(src)
        .controls
        .into_iter()
        .map(|c| (c.id, c.impact, c.title, c.desc))
        .collect()
}

fn ids(src: &str) -> Vec<String> {
    parse(src).controls.into_iter().map(|c| c.id).collect()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

#[test]
fn rules_key_is_the_path_without_rb() {
    let f = extract_controls("controls/ssh/server_spec.rb", "");
    assert_eq!(f.key, "controls/ssh/server_spec");
    assert_eq!(f.path, "controls/ssh/server_spec.rb");
    assert!(f.controls.is_empty());
    assert_eq!(f.title, None);
}

#[test]
fn several_controls_with_quote_styles_and_defaults() {
    let src = r#"
title 'Basic checks'

control 'basic-1' do
  impact 0.7
  title 'First'
  desc 'The first control'
end

control "basic-2" do
  title "Second"
end

control('basic-3') do
  impact(1)
  title('Third')
  desc('Third desc')
end

control 'basic-4' do impact 0.2; title 'One-liner' end
"#;
    assert_eq!(
        summary(src),
        [
            ("basic-1".into(), 0.7, s("First"), s("The first control")),
            ("basic-2".into(), 0.5, s("Second"), None),
            ("basic-3".into(), 1.0, s("Third"), s("Third desc")),
            ("basic-4".into(), 0.2, s("One-liner"), None),
        ]
    );
    let f = parse(src);
    assert_eq!(f.title.as_deref(), Some("Basic checks"));
    assert_eq!(
        f.controls.iter().map(|c| c.line).collect::<Vec<_>>(),
        [4, 10, 14, 20]
    );
}

#[test]
fn named_and_symbol_impacts_and_clamping() {
    let src = r#"
control 'i-none' do impact 'none' end
control 'i-low' do impact 'low' end
control 'i-medium' do impact "MEDIUM" end
control 'i-high' do impact :high end
control 'i-critical' do impact :critical end
control 'i-numeric-string' do impact '0.3' end
control 'i-over' do impact 7 end
control 'i-under' do impact -0.5 end
control 'i-input' do impact input('level', value: 0.9) end
control 'i-unknown-name' do impact 'severe' end
control 'i-last-wins' do
  impact 0.1
  impact 0.6
end
"#;
    let got: Vec<(String, f64)> = parse(src)
        .controls
        .into_iter()
        .map(|c| (c.id, c.impact))
        .collect();
    let want = [
        ("i-none", 0.0),
        ("i-low", 0.1),
        ("i-medium", 0.4),
        ("i-high", 0.7),
        ("i-critical", 0.9),
        ("i-numeric-string", 0.3),
        ("i-over", 1.0),
        ("i-under", 0.0),
        ("i-input", 0.5),
        ("i-unknown-name", 0.5),
        ("i-last-wins", 0.6),
    ];
    assert_eq!(
        got,
        want.iter()
            .map(|(i, v)| (i.to_string(), *v))
            .collect::<Vec<_>>()
    );
}

#[test]
fn heredoc_descriptions() {
    let src = r#"
control 'h-1' do
  title 'Squiggly'
  desc <<~EOS
    Line one.
      Indented line two.
  EOS
end

control 'h-2' do
  desc 'check', <<-CHECK
      Run this:
        cat /etc/passwd
      CHECK
  desc <<~'RAW'
    No #{interpolation} and no \n escape.
  RAW
  title 'After the heredocs'
end

control 'h-3' do
  desc <<~EOS.strip
    Tab\there, "quotes" and 'ticks'; do end { } # not a comment
  EOS
  impact 0.8
end

control 'h-4' do
  title <<EOT
Bare heredoc
EOT
end
"#;
    let f = parse(src);
    let c = &f.controls;
    assert_eq!(c.len(), 4);
    assert_eq!(
        c[0].desc.as_deref(),
        Some("Line one.\n  Indented line two.")
    );
    assert_eq!(c[1].title.as_deref(), Some("After the heredocs"));
    assert_eq!(
        c[1].desc.as_deref(),
        Some("No #{interpolation} and no \\n escape.")
    );
    assert_eq!(
        c[1].descriptions,
        [
            Description {
                label: "check".into(),
                data: "Run this:\n  cat /etc/passwd".into()
            },
            Description {
                label: "default".into(),
                data: "No #{interpolation} and no \\n escape.".into()
            },
        ]
    );
    assert_eq!(
        c[2].desc.as_deref(),
        Some("Tab\there, \"quotes\" and 'ticks'; do end { } # not a comment")
    );
    assert_eq!(c[2].impact, 0.8);
    assert_eq!(c[3].title.as_deref(), Some("Bare heredoc\n"));
}

#[test]
fn percent_literals() {
    let src = r#"
control 'p-1' do
  title %q{Braces {nested} and 'quotes'}
  desc %Q(Parens (nested) with "quotes" and a\ttab)
end
control 'p-2' do
  title %(Bare percent string)
  desc %q[Square \] bracket]
  tag %w{not a title}
  describe %r{do|end}i do
    it { should_not be_nil }
  end
end
control 'p-3' do
  title %q<Angle>
  impact 0.4
end
"#;
    assert_eq!(
        summary(src),
        [
            (
                "p-1".into(),
                0.5,
                s("Braces {nested} and 'quotes'"),
                s("Parens (nested) with \"quotes\" and a\ttab")
            ),
            (
                "p-2".into(),
                0.5,
                s("Bare percent string"),
                s("Square ] bracket")
            ),
            ("p-3".into(), 0.4, s("Angle"), None),
        ]
    );
}

#[test]
fn describe_blocks_outside_controls_are_not_controls() {
    let src = r#"
describe file('/etc/passwd') do
  it { should exist }
end

control 'c-1' do
  impact 0.3
  describe 'inside' do
    it { should eq 'inside' }
  end
end

describe command('title "not a control"') do
  its('stdout') { should match /control 'fake' do/ }
end
control 'c-2' do
end
"#;
    assert_eq!(ids(src), ["c-1", "c-2"]);
    assert_eq!(parse(src).title, None);
}

#[test]
fn only_if_and_nested_blocks_do_not_confuse_matching() {
    let src = r#"
control 'n-1' do
  impact 0.6
  only_if('only on linux') { os.linux? }
  only_if do
    command('sshd').exist?
  end
  if os.debian?
    describe package('openssh-server') do
      it { should be_installed }
    end
  elsif os.redhat?
    describe package('openssh') { it { should be_installed } }
  else
    describe 'unsupported' do
      skip 'unsupported platform'
    end
  end
  %w(a b).each { |x| describe x do it { should_not be_nil } end }
  case os.family
  when 'debian' then describe('x') { it { should eq 'x' } }
  end
  begin
    value = Integer('12')
  rescue ArgumentError
    value = 0
  end
  i = 0
  while i < 2 do
    i += 1
  end
  describe value do
    it { should eq 12 }
  end unless false
  x = { a: 1, 'b' => { c: [1, 2] } }
  y = x.class.name.end_with?('h')
  title 'Still inside n-1'
end

control 'n-2' do
  impact 0.2
  title 'Second after nesting'
end
"#;
    assert_eq!(
        summary(src),
        [
            ("n-1".into(), 0.6, s("Still inside n-1"), None),
            ("n-2".into(), 0.2, s("Second after nesting"), None),
        ]
    );
}

#[test]
fn tags_and_refs_with_hashes() {
    let src = r#"
control 'cis-1.1.1' do
  impact 1.0
  title 'Ensure mounting of cramfs is disabled'
  desc  'The cramfs filesystem type is a compressed read-only Linux filesystem.'
  desc  'rationale', 'Removing support reduces the local attack surface.'
  desc  :fix, 'Edit /etc/modprobe.d/CIS.conf'
  tag   cis: 'distribution-independent-linux:1.1.1.1', level: 1
  tag   'cis-level-1', nist: ['CM-7', 'Rev_4'], cce: { id: 'CCE-80137-3', 'v' => 2 }
  tag   severity: :high
  ref   'CIS Benchmark', url: 'https://www.cisecurity.org/', 'x' => { 'y' => 'z' }
  ref   'Hash ref', { url: 'https://example.com/{id}' }

  describe kernel_module('cramfs') do
    it { should_not be_loaded }
    it { should be_disabled }
  end
end
"#;
    let c = &parse(src).controls[0];
    assert_eq!(c.id, "cis-1.1.1");
    assert_eq!(c.impact, 1.0);
    assert_eq!(
        c.title.as_deref(),
        Some("Ensure mounting of cramfs is disabled")
    );
    assert_eq!(
        c.desc.as_deref(),
        Some("The cramfs filesystem type is a compressed read-only Linux filesystem.")
    );
    let labels: Vec<&str> = c.descriptions.iter().map(|d| d.label.as_str()).collect();
    assert_eq!(labels, ["default", "rationale", "fix"]);
    assert_eq!(c.descriptions[2].data, "Edit /etc/modprobe.d/CIS.conf");
}

#[test]
fn escapes_and_multi_line_strings() {
    let src = r#"
control "e-1" do
  title "Say \"hello\"\tand\\or \u00e9 \u{1F600} \x41 \101 #{'x' + "}"}"
  desc 'It\'s a \\ backslash and a \n that stays'
end
control 'e-2' do
  title 'Line one
line two'
  desc "Concatenated " +
       "across lines " \
       'and styles'
end
control 'e-3' do
  desc "default", "Explicit default label"
end
"#;
    let f = parse(src);
    let c = &f.controls;
    assert_eq!(
        c[0].title.as_deref(),
        Some("Say \"hello\"\tand\\or \u{e9} \u{1F600} A A #{'x' + \"}\"}")
    );
    assert_eq!(
        c[0].desc.as_deref(),
        Some("It's a \\ backslash and a \\n that stays")
    );
    assert_eq!(c[1].title.as_deref(), Some("Line one\nline two"));
    assert_eq!(
        c[1].desc.as_deref(),
        Some("Concatenated across lines and styles")
    );
    assert_eq!(c[2].desc.as_deref(), Some("Explicit default label"));
    assert_eq!(c[2].descriptions.len(), 1);
}

#[test]
fn comments_and_block_comments_hide_controls() {
    let src = r#"
# control 'commented' do
#   impact 1.0
# end
=begin
control 'in-block-comment' do
end
=end
control 'real' do # control 'trailing' do
  impact 0.9 # impact 0.1
  title 'Real # not a comment'
end
__END__
control 'after-end-marker' do
end
"#;
    assert_eq!(
        summary(src),
        [("real".into(), 0.9, s("Real # not a comment"), None)]
    );
}

#[test]
fn regexes_and_symbols_containing_keywords() {
    let src = r#"
control 'r-1' do
  describe file('/etc/ssh/sshd_config') do
    its('content') { should match /^Protocol 2$/ }
    its('content') { should_not match(/do'|"end/) }
    its('content') { should cmp %r{ end \{ } }
  end
  x = 10 / 2 / 1
  y = [:end, :do, :"quoted end", :class]
  z = { if: 1, end: 2, do: 3 }
  title 'Regexes done'
  impact 0.1
end
control 'r-2' do
  impact 0.2
end
"#;
    assert_eq!(
        summary(src),
        [
            ("r-1".into(), 0.1, s("Regexes done"), None),
            ("r-2".into(), 0.2, None, None),
        ]
    );
}

#[test]
fn dynamic_ids_stay_literal_and_loops_are_followed() {
    let src = r#"
%w(sshd ntpd).each do |svc|
  control "svc-#{svc}" do
    impact 0.5
    title "Service #{svc} is running"
  end
end
control :symbol_id do
  impact 0.1
end
control some_variable do
  impact 1.0
end
"#;
    assert_eq!(
        summary(src),
        [
            (
                "svc-#{svc}".into(),
                0.5,
                s("Service #{svc} is running"),
                None
            ),
            ("symbol_id".into(), 0.1, None, None),
        ]
    );
}

#[test]
fn include_controls_overrides_are_not_this_files_controls() {
    let src = r#"
include_controls 'linux-baseline' do
  skip_control 'os-01'
  control 'os-02' do
    impact 0.1
  end
end
require_controls 'ssh-baseline' do
  control 'sshd-01'
end
control 'own-1' do
  impact 0.3
end
"#;
    assert_eq!(ids(src), ["own-1"]);
}

#[test]
fn legacy_rule_keyword() {
    let src = "rule 'legacy-1' do\n  impact 0.8\n  title 'Legacy'\nend\n";
    assert_eq!(summary(src), [("legacy-1".into(), 0.8, s("Legacy"), None)]);
}

#[test]
fn truncated_files_yield_what_was_read() {
    let src = "control 'a' do\n  impact 0.7\n  title 'A'\nend\ncontrol 'b' do\n  title 'B'\n  desc <<~EOS\n    never closed";
    assert_eq!(
        summary(src),
        [
            ("a".into(), 0.7, s("A"), None),
            ("b".into(), 0.5, s("B"), s("never closed")),
        ]
    );
}

#[test]
fn garbage_never_panics() {
    let samples = [
        "control",
        "control '",
        "control \"unterminated",
        "control 'x' do\n  desc <<~",
        "%",
        "%q",
        "%q{",
        ":",
        "?",
        "\\",
        "<<",
        "<<~'",
        "\"#{",
        "\"#{\"",
        "=begin",
        "end end end } } }",
        "control 'x' do impact - end",
        "\"\\u{zzzz}\\x\\u12",
        "0x 0b 1e 1e+ 1.2.3 1_000r",
        "$ @ @@ $1",
        "control 'é' do title 'ünï' end",
    ];
    for src in samples {
        let _ = parse(src);
    }
    // Every prefix of a real control file.
    let real = include_str!("testdata/ssh-baseline/controls/ssh_spec.rb");
    for (i, _) in real.char_indices() {
        let _ = parse(&real[..i]);
    }
    // Every byte value.
    let all: String = (0u8..=255).map(char::from).collect();
    let _ = parse(&all);
}

#[test]
fn impact_names_and_unindent() {
    assert_eq!(impact_from_name("Critical"), Some(0.9));
    assert_eq!(impact_from_name(" high "), Some(0.7));
    assert_eq!(impact_from_name("2.5"), Some(1.0));
    assert_eq!(impact_from_name("nan"), None);
    assert_eq!(impact_from_name("bogus"), None);
    assert_eq!(unindent("\n    a\n      b\n\n    c\n  "), "a\n  b\n\nc");
    assert_eq!(unindent("  single  "), "single");
}
