//! Control metadata from InSpec control files, without running Ruby: a lexer for the
//! part of Ruby that control files use (strings of every kind, heredocs, `%` literals,
//! regexes, symbols, comments, `=begin`/`=end`) and a block matcher that finds
//! `control 'id' do … end` (or legacy `rule`) and reads the literal arguments of
//! `impact`, `title` and `desc` written directly inside it.
//!
//! Tolerant by design: whatever cannot be understood is skipped, a file that cannot be
//! fully parsed yields the controls found so far, and nothing here panics on any input.
//! Values computed at run time (`impact input('x')`) keep their defaults. `describe`
//! blocks outside any control are not reported: the Compliance API lists named controls
//! only (InSpec would run them as "(generated from …)" controls). Controls written inside
//! `include_controls`/`require_controls` blocks override a dependency's controls rather
//! than define this profile's, so they are skipped too.

mod lexer;

use serde::Serialize;

use lexer::{is_keyword, is_value_keyword, Lexer, Tok, Token};

/// InSpec's default impact for a control that sets none.
pub const DEFAULT_IMPACT: f64 = 0.5;

/// The controls of one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlFile {
    /// Path inside the profile, e.g. `controls/ssh.rb`.
    pub path: String,
    /// The Compliance API's rules key: the path without `.rb` (`controls/ssh`).
    pub key: String,
    /// A `title '…'` at file level (InSpec's group title).
    pub title: Option<String>,
    /// In file order.
    pub controls: Vec<Control>,
}

/// One control's literal metadata.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Control {
    pub id: String,
    pub title: Option<String>,
    /// The default description (`desc '…'` or `desc 'default', '…'`).
    pub desc: Option<String>,
    /// Every description in the order first given, the default one included.
    pub descriptions: Vec<Description>,
    /// In [0, 1]; named levels mapped as InSpec maps them.
    pub impact: f64,
    /// 1-based line of the `control` keyword.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Description {
    pub label: String,
    pub data: String,
}

/// Reads the controls of one Ruby control file.
pub fn extract_controls(path: &str, source: &str) -> ControlFile {
    let tokens = Lexer::new(source).run();
    let (title, controls) = Parser::new(&tokens).run();
    ControlFile {
        path: path.to_string(),
        key: path.strip_suffix(".rb").unwrap_or(path).to_string(),
        title,
        controls,
    }
}

/// An impact level by name (`none` 0.0, `low` 0.1, `medium` 0.4, `high` 0.7,
/// `critical` 0.9), case-insensitive; a numeric string is read as a number.
pub fn impact_from_name(name: &str) -> Option<f64> {
    let name = name.trim().to_ascii_lowercase();
    match name.as_str() {
        "none" => Some(0.0),
        "low" => Some(0.1),
        "medium" => Some(0.4),
        "high" => Some(0.7),
        "critical" => Some(0.9),
        _ => name
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(clamp_impact),
    }
}

fn clamp_impact(v: f64) -> f64 {
    if v.is_nan() {
        DEFAULT_IMPACT
    } else {
        v.clamp(0.0, 1.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum FrameKind {
    Control(usize),
    /// `include_controls`/`require_controls`: controls inside are overrides.
    Skip,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Closer {
    End,
    Brace,
}

#[derive(Debug, Clone, Copy)]
struct Frame {
    kind: FrameKind,
    closer: Closer,
    /// `while x do`: the `do` belongs to the loop, not a new block.
    loop_header: bool,
}

enum Pending {
    None,
    Control(String, usize),
    Skip,
}

/// A literal argument.
#[derive(Debug, Clone, PartialEq)]
enum Arg {
    Str(String),
    Sym(String),
    Num(f64),
    Other,
}

struct Parser<'a> {
    toks: &'a [Token],
    i: usize,
    frames: Vec<Frame>,
    pending: Pending,
    controls: Vec<Control>,
    file_title: Option<String>,
    stmt_start: bool,
}

impl<'a> Parser<'a> {
    fn new(toks: &'a [Token]) -> Self {
        Parser {
            toks,
            i: 0,
            frames: Vec::new(),
            pending: Pending::None,
            controls: Vec::new(),
            file_title: None,
            stmt_start: true,
        }
    }

    fn run(mut self) -> (Option<String>, Vec<Control>) {
        while let Some(token) = self.toks.get(self.i) {
            let at_start = self.stmt_start;
            self.stmt_start = false;
            self.i += 1;
            match &token.tok {
                Tok::Newline | Tok::Op(";") => {
                    if let Some(top) = self.frames.last_mut() {
                        top.loop_header = false;
                    }
                    // `control 'x'` with no block on its line defines nothing.
                    if !self.continues_statement() {
                        self.pending = Pending::None;
                    }
                    self.stmt_start = true;
                }
                Tok::Op("{") => {
                    self.open(Closer::Brace);
                    self.stmt_start = true;
                }
                Tok::Op("}") => self.close(Closer::Brace),
                Tok::Op("|") if at_start => self.stmt_start = true,
                Tok::Ident(word) => self.word(word, token.line, at_start),
                _ => {}
            }
        }
        (self.file_title, self.controls)
    }

    /// After a newline: whether the previous line ended mid-expression (`,`, `(`, an
    /// operator), so a pending `control` still waits for its block.
    fn continues_statement(&self) -> bool {
        let prev = self.i.checked_sub(2).and_then(|p| self.toks.get(p));
        matches!(
            prev.map(|t| &t.tok),
            Some(Tok::Op("," | "(" | "[" | "+" | "\\" | "&&" | "||" | "."))
        )
    }

    fn prev_ends_value(&self) -> bool {
        let prev = self.i.checked_sub(2).and_then(|p| self.toks.get(p));
        match prev.map(|t| &t.tok) {
            None | Some(Tok::Newline | Tok::Label) => false,
            Some(Tok::Op(op)) => matches!(*op, ")" | "]" | "}"),
            // `return if x`: a bare jump is a complete statement, so `if` modifies it.
            Some(Tok::Ident(w)) => {
                is_value_keyword(w)
                    || matches!(w.as_str(), "return" | "break" | "next" | "yield")
                    || !is_keyword(w)
            }
            Some(_) => true,
        }
    }

    fn word(&mut self, word: &str, line: usize, at_start: bool) {
        match word {
            "do" => {
                if let Some(top) = self.frames.last_mut() {
                    if top.loop_header {
                        top.loop_header = false;
                        self.stmt_start = true;
                        return;
                    }
                }
                self.open(Closer::End);
                self.stmt_start = true;
            }
            "end" => self.close(Closer::End),
            "def" | "class" | "module" | "begin" | "case" => {
                self.push_frame(FrameKind::Other, Closer::End, false);
                self.stmt_start = word == "begin";
            }
            // A modifier (`x if y`) opens nothing.
            "if" | "unless" | "while" | "until" if !self.prev_ends_value() => {
                let looping = word == "while" || word == "until";
                self.push_frame(FrameKind::Other, Closer::End, looping);
            }
            "for" => self.push_frame(FrameKind::Other, Closer::End, true),
            "then" | "else" | "ensure" => self.stmt_start = true,
            "control" | "rule" if at_start => {
                if self.inside_control_or_skip() {
                    return;
                }
                if let Some(id) = self.control_id() {
                    self.pending = Pending::Control(id, line);
                }
            }
            "include_controls" | "require_controls" if at_start => {
                self.pending = Pending::Skip;
            }
            "impact" | "title" | "desc" if at_start => self.control_attribute(word),
            _ => {}
        }
    }

    fn inside_control_or_skip(&self) -> bool {
        self.frames
            .iter()
            .any(|f| matches!(f.kind, FrameKind::Control(_) | FrameKind::Skip))
    }

    fn push_frame(&mut self, kind: FrameKind, closer: Closer, loop_header: bool) {
        self.frames.push(Frame {
            kind,
            closer,
            loop_header,
        });
    }

    fn open(&mut self, closer: Closer) {
        let kind = match std::mem::replace(&mut self.pending, Pending::None) {
            Pending::Control(id, line) => {
                self.controls.push(Control {
                    id,
                    title: None,
                    desc: None,
                    descriptions: Vec::new(),
                    impact: DEFAULT_IMPACT,
                    line,
                });
                FrameKind::Control(self.controls.len() - 1)
            }
            Pending::Skip => FrameKind::Skip,
            Pending::None => FrameKind::Other,
        };
        self.push_frame(kind, closer, false);
    }

    /// Pops up to the innermost frame with this closer; a stray closer is ignored.
    fn close(&mut self, closer: Closer) {
        if let Some(at) = self.frames.iter().rposition(|f| f.closer == closer) {
            self.frames.truncate(at);
        }
    }

    /// The id after `control`/`rule`: a string (or symbol), optionally in parentheses.
    fn control_id(&mut self) -> Option<String> {
        let mut j = self.i;
        if matches!(self.toks.get(j).map(|t| &t.tok), Some(Tok::Op("("))) {
            j += 1;
        }
        let (arg, next) = self.string_expr(j)?;
        self.i = next;
        match arg {
            Arg::Str(s) | Arg::Sym(s) => Some(s),
            _ => None,
        }
    }

    /// A string literal, possibly joined with `+`/juxtaposition and followed by simple
    /// method calls (`.strip`), starting at token `j`. Returns the value and the index
    /// after it.
    fn string_expr(&self, mut j: usize) -> Option<(Arg, usize)> {
        let first = self.toks.get(j)?;
        let mut s = match &first.tok {
            Tok::Str(s) => s.clone(),
            Tok::Sym(s) => return Some((Arg::Sym(s.clone()), j + 1)),
            _ => return None,
        };
        j += 1;
        loop {
            match self.toks.get(j).map(|t| &t.tok) {
                Some(Tok::Str(next)) => {
                    s.push_str(next);
                    j += 1;
                }
                Some(Tok::Op("+")) => {
                    // `"a" +\n "b"`: newlines after the operator continue the expression.
                    let mut k = j + 1;
                    while matches!(self.toks.get(k).map(|t| &t.tok), Some(Tok::Newline)) {
                        k += 1;
                    }
                    match self.toks.get(k).map(|t| &t.tok) {
                        Some(Tok::Str(next)) => {
                            s.push_str(next);
                            j = k + 1;
                        }
                        _ => break,
                    }
                }
                Some(Tok::Op("\\")) => j += 1,
                Some(Tok::Op("." | "&.")) => j += 1,
                Some(Tok::Ident(m)) if m.starts_with('.') => {
                    s = match &m[1..] {
                        "strip" | "squish" => s.trim().to_string(),
                        "lstrip" => s.trim_start().to_string(),
                        "rstrip" => s.trim_end().to_string(),
                        "chomp" => s
                            .strip_suffix("\r\n")
                            .or_else(|| s.strip_suffix('\n'))
                            .unwrap_or(&s)
                            .to_string(),
                        _ => s,
                    };
                    j += 1;
                    // Skip the call's own arguments, e.g. `.gsub(/x/, '')`.
                    if matches!(self.toks.get(j).map(|t| &t.tok), Some(Tok::Op("("))) {
                        j = self.skip_balanced(j);
                    }
                }
                _ => break,
            }
        }
        Some((Arg::Str(s), j))
    }

    /// Index after the bracket group opening at `j`.
    fn skip_balanced(&self, mut j: usize) -> usize {
        let mut depth = 0usize;
        while let Some(t) = self.toks.get(j) {
            j += 1;
            match t.tok {
                Tok::Op("(" | "[" | "{") => depth += 1,
                Tok::Op(")" | "]" | "}") => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
        j
    }

    /// The arguments of the statement starting at token `self.i`, which is left at the
    /// token that ends it (newline, `;`, or a block's `end`/`}`, not consumed).
    fn statement_args(&mut self) -> Vec<Arg> {
        let mut args = Vec::new();
        let mut j = self.i;
        let mut parens = 0usize;
        if matches!(self.toks.get(j).map(|t| &t.tok), Some(Tok::Op("("))) {
            parens = 1;
            j += 1;
        }
        let mut current: Option<Arg> = None;
        let mut depth = 0usize;
        while let Some(t) = self.toks.get(j) {
            match &t.tok {
                Tok::Newline | Tok::Op(";") if depth == 0 && parens == 0 => break,
                Tok::Newline if depth > 0 || parens > 0 => j += 1,
                Tok::Op(")") if depth == 0 && parens == 1 => {
                    j += 1;
                    break;
                }
                Tok::Op("}") if depth == 0 => break,
                Tok::Ident(w) if depth == 0 && (w == "end" || w == "do") => break,
                Tok::Op("(" | "[" | "{") => {
                    depth += 1;
                    current = Some(Arg::Other);
                    j += 1;
                }
                Tok::Op(")" | "]" | "}") => {
                    depth = depth.saturating_sub(1);
                    j += 1;
                }
                Tok::Op(",") if depth == 0 => {
                    args.push(current.take().unwrap_or(Arg::Other));
                    j += 1;
                    // A trailing comma continues the statement on the next line.
                    while matches!(self.toks.get(j).map(|t| &t.tok), Some(Tok::Newline)) {
                        j += 1;
                    }
                }
                Tok::Op("-") if depth == 0 && current.is_none() => {
                    if let Some(Tok::Num(n)) = self.toks.get(j + 1).map(|t| &t.tok) {
                        current = Some(Arg::Num(-n));
                        j += 2;
                    } else {
                        current = Some(Arg::Other);
                        j += 1;
                    }
                }
                Tok::Num(n) if depth == 0 && current.is_none() => {
                    current = Some(Arg::Num(*n));
                    j += 1;
                }
                Tok::Str(_) | Tok::Sym(_) if depth == 0 && current.is_none() => {
                    match self.string_expr(j) {
                        Some((arg, next)) => {
                            current = Some(arg);
                            j = next;
                        }
                        None => j += 1,
                    }
                }
                _ => {
                    if depth == 0 {
                        current = Some(Arg::Other);
                    }
                    j += 1;
                }
            }
        }
        if let Some(arg) = current {
            args.push(arg);
        }
        self.i = j;
        args
    }

    /// `impact`/`title`/`desc` directly inside a control (or `title` at file level).
    fn control_attribute(&mut self, word: &str) {
        let Some(top) = self.frames.last().copied() else {
            if word == "title" {
                let args = self.statement_args();
                if let (Some(Arg::Str(t)), None) = (args.first(), &self.file_title) {
                    self.file_title = Some(t.clone());
                }
            }
            return;
        };
        let FrameKind::Control(idx) = top.kind else {
            return;
        };
        let args = self.statement_args();
        let Some(control) = self.controls.get_mut(idx) else {
            return;
        };
        match (word, args.as_slice()) {
            ("impact", [Arg::Num(n), ..]) => control.impact = clamp_impact(*n),
            ("impact", [Arg::Str(s) | Arg::Sym(s), ..]) => {
                if let Some(v) = impact_from_name(s) {
                    control.impact = v;
                }
            }
            ("title", [Arg::Str(s), ..]) => control.title = Some(s.clone()),
            ("desc", [Arg::Str(text)]) => set_description(control, "default", text),
            ("desc", [Arg::Str(label) | Arg::Sym(label), Arg::Str(text), ..]) => {
                set_description(control, label, text)
            }
            _ => {}
        }
    }
}

/// InSpec stores every description unindented (the smallest indentation of the
/// non-blank lines removed from each line) and stripped, so heredocs read cleanly.
pub fn unindent(text: &str) -> String {
    let min = text
        .split('\n')
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| l.find(|c: char| !c.is_whitespace()))
        .min()
        .unwrap_or(0);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| {
            let blanks = l.bytes().take_while(|b| *b == b' ' || *b == b'\t').count();
            if blanks >= min {
                &l[min..]
            } else {
                l
            }
        })
        .collect();
    lines.join("\n").trim().to_string()
}

fn set_description(control: &mut Control, label: &str, text: &str) {
    let text = &unindent(text);
    if label == "default" {
        control.desc = Some(text.to_string());
    }
    match control.descriptions.iter_mut().find(|d| d.label == label) {
        Some(d) => d.data = text.to_string(),
        None => control.descriptions.push(Description {
            label: label.to_string(),
            data: text.to_string(),
        }),
    }
}
