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

use serde::Serialize;

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
        _ => name.parse::<f64>().ok().filter(|f| f.is_finite()).map(clamp_impact),
    }
}

fn clamp_impact(v: f64) -> f64 {
    if v.is_nan() {
        DEFAULT_IMPACT
    } else {
        v.clamp(0.0, 1.0)
    }
}

// ---------------------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// Identifiers, keywords, constants, `@ivar`, `$global`.
    Ident(String),
    /// `key:` in a hash or keyword argument.
    Label,
    Str(String),
    Sym(String),
    Num(f64),
    /// A literal whose value we do not need: regex, `%w[]`, `%i[]`, `?c`.
    Value,
    Op(&'static str),
    Newline,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
}

struct PendingHeredoc {
    token: usize,
    id: String,
    /// `<<~`: indentation removed.
    squiggly: bool,
    /// `<<-` or `<<~`: the terminator may be indented.
    indented_end: bool,
    /// `<<~'ID'`: no escapes.
    raw: bool,
}

const OPS: [&str; 34] = [
    "**=", "<=>", "===", "...", "&&=", "||=", "::", "=>", "->", "&.", "==", "!=", "=~", "!~",
    "<=", ">=", "&&", "||", "..", "+=", "-=", "*=", "/=", "**", "<<", ">>", "(", ")", "[", "]",
    "{", "}", ",", ";",
];
const SINGLE_OPS: [&str; 17] = [
    ".", "+", "-", "*", "/", "%", "=", "<", ">", "!", "&", "|", "^", "~", "?", ":", "\\",
];

struct Lexer {
    src: Vec<char>,
    pos: usize,
    line: usize,
    tokens: Vec<Token>,
    heredocs: Vec<PendingHeredoc>,
    space_before: bool,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || !c.is_ascii()
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || !c.is_ascii()
}

fn closing_delim(open: char) -> char {
    match open {
        '(' => ')',
        '[' => ']',
        '{' => '}',
        '<' => '>',
        c => c,
    }
}

impl Lexer {
    fn new(source: &str) -> Self {
        Lexer {
            src: source.chars().collect(),
            pos: 0,
            line: 1,
            tokens: Vec::new(),
            heredocs: Vec::new(),
            space_before: false,
        }
    }

    fn peek(&self, ahead: usize) -> Option<char> {
        self.src.get(self.pos + ahead).copied()
    }

    fn at_line_start(&self) -> bool {
        self.pos == 0 || self.src.get(self.pos - 1) == Some(&'\n')
    }

    fn rest_starts_with(&self, s: &str) -> bool {
        s.chars().enumerate().all(|(i, c)| self.peek(i) == Some(c))
    }

    fn push(&mut self, tok: Tok, line: usize) {
        self.tokens.push(Token { tok, line });
        self.space_before = false;
    }

    /// Whether the previous token leaves Ruby expecting a value (so `/` starts a regex,
    /// `%(` a string, `<<X` a heredoc) rather than an operator. `next` is the character
    /// after the ambiguous one: `foo /x/` is a regex argument, `foo / x` a division.
    fn value_expected(&self, next: Option<char>) -> bool {
        let Some(last) = self.tokens.last() else {
            return true;
        };
        match &last.tok {
            Tok::Newline | Tok::Label => true,
            Tok::Op(op) => !matches!(*op, ")" | "]" | "}"),
            Tok::Str(_) | Tok::Sym(_) | Tok::Num(_) | Tok::Value => false,
            Tok::Ident(word) => {
                if is_value_keyword(word) {
                    return false;
                }
                if is_keyword(word) {
                    return true;
                }
                self.space_before && next.is_some_and(|c| !c.is_whitespace() && c != '=')
            }
        }
    }

    fn run(mut self) -> Vec<Token> {
        while let Some(c) = self.peek(0) {
            if self.at_line_start() {
                if self.rest_starts_with("=begin")
                    && self.peek(6).is_none_or(|c| c.is_whitespace())
                {
                    self.skip_block_comment();
                    continue;
                }
                if self.rest_starts_with("__END__")
                    && self.peek(7).is_none_or(|c| c == '\n' || c == '\r')
                {
                    break;
                }
            }
            match c {
                ' ' | '\t' | '\r' | '\x0c' => {
                    self.pos += 1;
                    self.space_before = true;
                }
                '\n' => {
                    let line = self.line;
                    self.pos += 1;
                    self.line += 1;
                    self.push(Tok::Newline, line);
                    self.read_heredoc_bodies();
                }
                '\\' if self.peek(1) == Some('\n') => {
                    // Line continuation: no statement break, but heredoc bodies still
                    // start on the next physical line.
                    self.pos += 2;
                    self.line += 1;
                    self.space_before = true;
                    self.read_heredoc_bodies();
                }
                '#' => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.pos += 1;
                    }
                }
                '"' | '`' => {
                    let line = self.line;
                    self.pos += 1;
                    let raw = self.scan_delimited(c, None, true);
                    self.push(Tok::Str(unescape_double(&raw)), line);
                }
                '\'' => {
                    let line = self.line;
                    self.pos += 1;
                    let raw = self.scan_delimited('\'', None, false);
                    self.push(Tok::Str(unescape_single(&raw, '\'', None)), line);
                }
                ':' => self.lex_colon(),
                '%' if self.percent_literal_ahead() => self.lex_percent(),
                '/' if self.value_expected(self.peek(1)) => {
                    let line = self.line;
                    self.pos += 1;
                    self.scan_delimited('/', None, true);
                    self.skip_regex_flags();
                    self.push(Tok::Value, line);
                }
                '<' if self.heredoc_ahead() => self.lex_heredoc_start(),
                '?' if self.char_literal_ahead() => {
                    let line = self.line;
                    self.pos += if self.peek(1) == Some('\\') { 3 } else { 2 };
                    self.push(Tok::Value, line);
                }
                c if c.is_ascii_digit() => self.lex_number(),
                c if is_ident_start(c) || c == '@' || c == '$' => self.lex_ident(),
                _ => self.lex_op(),
            }
        }
        // A heredoc whose body never came (no newline after it) stays empty.
        self.tokens
    }

    fn skip_block_comment(&mut self) {
        loop {
            while self.peek(0).is_some_and(|c| c != '\n') {
                self.pos += 1;
            }
            if self.peek(0).is_none() {
                return;
            }
            self.pos += 1;
            self.line += 1;
            if self.rest_starts_with("=end") && self.peek(4).is_none_or(|c| c.is_whitespace()) {
                while self.peek(0).is_some_and(|c| c != '\n') {
                    self.pos += 1;
                }
                return;
            }
        }
    }

    /// Raw text up to the closing delimiter (consumed), escapes kept as written so the
    /// caller can apply single- or double-quote rules. With `open`, the delimiters nest
    /// (`%q(a (b) c)`); with `interpolate`, `#{…}` is skipped as code, so quotes and
    /// braces inside it do not end the literal.
    fn scan_delimited(&mut self, close: char, open: Option<char>, interpolate: bool) -> String {
        let mut out = String::new();
        let mut depth = 0usize;
        while let Some(c) = self.peek(0) {
            self.pos += 1;
            match c {
                '\\' => {
                    out.push('\\');
                    if let Some(n) = self.peek(0) {
                        self.pos += 1;
                        if n == '\n' {
                            self.line += 1;
                        }
                        out.push(n);
                    }
                }
                '\n' => {
                    self.line += 1;
                    out.push('\n');
                }
                '#' if interpolate && self.peek(0) == Some('{') => {
                    self.pos += 1;
                    out.push_str("#{");
                    self.scan_interpolation(&mut out);
                }
                c if Some(c) == open && open != Some(close) => {
                    depth += 1;
                    out.push(c);
                }
                c if c == close => {
                    if depth == 0 {
                        return out;
                    }
                    depth -= 1;
                    out.push(c);
                }
                c => out.push(c),
            }
        }
        out
    }

    /// The code of `#{…}` up to its closing brace (consumed and copied).
    fn scan_interpolation(&mut self, out: &mut String) {
        let mut depth = 0usize;
        while let Some(c) = self.peek(0) {
            self.pos += 1;
            match c {
                '{' => {
                    depth += 1;
                    out.push(c);
                }
                '}' => {
                    out.push('}');
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                }
                '"' | '\'' | '`' => {
                    out.push(c);
                    let inner = self.scan_delimited(c, None, c != '\'');
                    out.push_str(&inner);
                    out.push(c);
                }
                '\n' => {
                    self.line += 1;
                    out.push(c);
                }
                c => out.push(c),
            }
        }
    }

    fn skip_regex_flags(&mut self) {
        while self.peek(0).is_some_and(|c| c.is_ascii_alphabetic()) {
            self.pos += 1;
        }
    }

    fn lex_colon(&mut self) {
        let line = self.line;
        match self.peek(1) {
            Some(':') => {
                self.pos += 2;
                self.push(Tok::Op("::"), line);
            }
            Some(q @ ('"' | '\'')) => {
                self.pos += 2;
                let raw = self.scan_delimited(q, None, q == '"');
                let s = if q == '"' {
                    unescape_double(&raw)
                } else {
                    unescape_single(&raw, '\'', None)
                };
                self.push(Tok::Sym(s), line);
            }
            Some(c) if is_ident_start(c) || c == '@' || c == '$' => {
                self.pos += 1;
                let start = self.pos;
                while self.peek(0).is_some_and(|c| is_ident_char(c) || c == '@' || c == '$') {
                    self.pos += 1;
                }
                if self.peek(0).is_some_and(|c| matches!(c, '?' | '!' | '=')) {
                    self.pos += 1;
                }
                let name: String = self.src[start..self.pos].iter().collect();
                self.push(Tok::Sym(name), line);
            }
            _ => {
                self.pos += 1;
                self.push(Tok::Op(":"), line);
            }
        }
    }

    fn percent_literal_ahead(&self) -> bool {
        let delim = match self.peek(1) {
            Some(k) if "qQwWiIrsx".contains(k) => self.peek(2),
            d => d,
        };
        if !delim.is_some_and(|d| !d.is_alphanumeric() && !d.is_whitespace()) {
            return false;
        }
        // `x %(y)` is a string argument and `x % (y)` a modulo, as Ruby reads them: the
        // same rule as for `/`, judged on the character after the `%`.
        self.value_expected(self.peek(1))
    }

    fn lex_percent(&mut self) {
        let line = self.line;
        self.pos += 1;
        let kind = match self.peek(0) {
            Some(k) if k.is_ascii_alphabetic() => {
                self.pos += 1;
                k
            }
            _ => 'Q',
        };
        let Some(open) = self.peek(0) else {
            return;
        };
        self.pos += 1;
        let close = closing_delim(open);
        let nest = (open != close).then_some(open);
        let interpolate = matches!(kind, 'Q' | 'W' | 'I' | 'r' | 'x');
        let raw = self.scan_delimited(close, nest, interpolate);
        match kind {
            'q' => self.push(Tok::Str(unescape_single(&raw, close, nest)), line),
            'Q' | 'x' => self.push(Tok::Str(unescape_double(&raw)), line),
            's' => self.push(Tok::Sym(unescape_single(&raw, close, nest)), line),
            'r' => {
                self.skip_regex_flags();
                self.push(Tok::Value, line);
            }
            _ => self.push(Tok::Value, line),
        }
    }

    fn heredoc_ahead(&self) -> bool {
        if self.peek(1) != Some('<') {
            return false;
        }
        let (flag, start) = match self.peek(2) {
            Some('~' | '-') => (true, 3),
            _ => (false, 2),
        };
        let Some(c) = self.peek(start) else {
            return false;
        };
        let quoted = matches!(c, '\'' | '"' | '`');
        if !(quoted || is_ident_start(c)) {
            return false;
        }
        if flag {
            return true;
        }
        // `<<ID`: a heredoc where a value is expected; `list <<ITEM` stays an append
        // unless the identifier is upper-case, as heredoc tags conventionally are.
        self.value_expected(Some(c)) && (quoted || c.is_ascii_uppercase())
    }

    fn lex_heredoc_start(&mut self) {
        let line = self.line;
        self.pos += 2;
        let mut squiggly = false;
        let mut indented_end = false;
        match self.peek(0) {
            Some('~') => {
                squiggly = true;
                indented_end = true;
                self.pos += 1;
            }
            Some('-') => {
                indented_end = true;
                self.pos += 1;
            }
            _ => {}
        }
        let mut raw = false;
        let id: String = match self.peek(0) {
            Some(q @ ('\'' | '"' | '`')) => {
                raw = q == '\'';
                self.pos += 1;
                let start = self.pos;
                while self.peek(0).is_some_and(|c| c != q && c != '\n') {
                    self.pos += 1;
                }
                let id = self.src[start..self.pos].iter().collect();
                if self.peek(0) == Some(q) {
                    self.pos += 1;
                }
                id
            }
            _ => {
                let start = self.pos;
                while self.peek(0).is_some_and(is_ident_char) {
                    self.pos += 1;
                }
                self.src[start..self.pos].iter().collect()
            }
        };
        self.heredocs.push(PendingHeredoc {
            token: self.tokens.len(),
            id,
            squiggly,
            indented_end,
            raw,
        });
        self.push(Tok::Str(String::new()), line);
    }

    /// At the start of a line: the bodies of the heredocs opened on the line before.
    fn read_heredoc_bodies(&mut self) {
        for doc in std::mem::take(&mut self.heredocs) {
            let mut lines: Vec<String> = Vec::new();
            while self.peek(0).is_some() {
                let start = self.pos;
                while self.peek(0).is_some_and(|c| c != '\n') {
                    self.pos += 1;
                }
                let text: String = self.src[start..self.pos].iter().collect();
                if self.peek(0) == Some('\n') {
                    self.pos += 1;
                }
                self.line += 1;
                let candidate = if doc.indented_end {
                    text.trim()
                } else {
                    text.trim_end()
                };
                if candidate == doc.id {
                    break;
                }
                lines.push(text);
            }
            if doc.squiggly {
                dedent(&mut lines);
            }
            let mut body = String::new();
            for l in &lines {
                body.push_str(l.strip_suffix('\r').unwrap_or(l));
                body.push('\n');
            }
            let value = if doc.raw {
                body
            } else {
                unescape_double(&body)
            };
            if let Some(t) = self.tokens.get_mut(doc.token) {
                t.tok = Tok::Str(value);
            }
        }
    }

    fn char_literal_ahead(&self) -> bool {
        // `?a` is a one-character string where a value is expected; elsewhere `?` is
        // the ternary operator.
        match (self.peek(1), self.peek(2)) {
            (Some('\\'), Some(_)) => self.value_expected(Some('\\')),
            (Some(c), next) if !c.is_whitespace() => {
                next.is_none_or(|n| !is_ident_char(n)) && self.value_expected(Some(c))
            }
            _ => false,
        }
    }

    fn lex_number(&mut self) {
        let line = self.line;
        let start = self.pos;
        if self.peek(0) == Some('0') && self.peek(1).is_some_and(|c| "xXbBoO".contains(c)) {
            let radix = match self.peek(1) {
                Some('x' | 'X') => 16,
                Some('b' | 'B') => 2,
                _ => 8,
            };
            self.pos += 2;
            let s = self.pos;
            while self.peek(0).is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                self.pos += 1;
            }
            let digits: String = self.src[s..self.pos].iter().filter(|c| **c != '_').collect();
            let v = u64::from_str_radix(&digits, radix).map_or(0.0, |v| v as f64);
            self.push(Tok::Num(v), line);
            return;
        }
        while self.peek(0).is_some_and(|c| c.is_ascii_digit() || c == '_') {
            self.pos += 1;
        }
        if self.peek(0) == Some('.') && self.peek(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            while self.peek(0).is_some_and(|c| c.is_ascii_digit() || c == '_') {
                self.pos += 1;
            }
        }
        if self.peek(0).is_some_and(|c| c == 'e' || c == 'E') {
            let sign = usize::from(matches!(self.peek(1), Some('+' | '-')));
            if self.peek(1 + sign).is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1 + sign;
                while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
            }
        }
        let text: String = self.src[start..self.pos].iter().filter(|c| **c != '_').collect();
        // Rational/imaginary suffixes.
        while self.peek(0).is_some_and(|c| c == 'r' || c == 'i') {
            self.pos += 1;
        }
        self.push(Tok::Num(text.parse().unwrap_or(0.0)), line);
    }

    fn lex_ident(&mut self) {
        let line = self.line;
        let start = self.pos;
        while self.peek(0).is_some_and(|c| c == '@' || c == '$') {
            self.pos += 1;
        }
        while self.peek(0).is_some_and(is_ident_char) {
            self.pos += 1;
        }
        // `$1`, `$~` and friends.
        if self.pos == start + 1 && self.src[start] == '$' {
            if self.peek(0).is_some() {
                self.pos += 1;
            }
        }
        if self.peek(0).is_some_and(|c| c == '?' || c == '!')
            && self.peek(1) != Some('=')
            && self.peek(1) != Some(':')
        {
            self.pos += 1;
        }
        let word: String = self.src[start..self.pos].iter().collect();
        let after_dot = matches!(
            self.tokens.last().map(|t| &t.tok),
            Some(Tok::Op("." | "&." | "::"))
        );
        if self.peek(0) == Some(':') && self.peek(1) != Some(':') && !after_dot {
            self.pos += 1;
            self.push(Tok::Label, line);
            return;
        }
        if after_dot {
            // A method name, even when it is spelt like a keyword (`x.class`, `y.end`).
            self.push(Tok::Ident(format!(".{word}")), line);
        } else {
            self.push(Tok::Ident(word), line);
        }
    }

    fn lex_op(&mut self) {
        let line = self.line;
        for op in OPS {
            if self.rest_starts_with(op) {
                self.pos += op.chars().count();
                self.push(Tok::Op(op), line);
                return;
            }
        }
        let c = self.peek(0).unwrap_or(' ');
        self.pos += 1;
        if let Some(op) = SINGLE_OPS.iter().find(|op| op.starts_with(c)) {
            self.push(Tok::Op(op), line);
        }
        // Anything else (stray bytes) is dropped.
    }
}

/// Ruby keywords that end a value (`x = nil if y`: the `if` is a modifier).
fn is_value_keyword(word: &str) -> bool {
    matches!(
        word,
        "end" | "self" | "true" | "false" | "nil" | "__FILE__" | "__LINE__" | "__method__"
    )
}

fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "if" | "unless"
            | "while"
            | "until"
            | "and"
            | "or"
            | "not"
            | "return"
            | "when"
            | "case"
            | "then"
            | "else"
            | "elsif"
            | "do"
            | "in"
            | "yield"
            | "puts"
            | "print"
            | "raise"
            | "begin"
            | "rescue"
            | "ensure"
            | "break"
            | "next"
    )
}

/// `<<~` indentation removal: the smallest indentation of the non-blank lines (a tab
/// counts to the next multiple of 8) is removed from every line.
fn dedent(lines: &mut [String]) {
    let width = |l: &str| -> Option<usize> {
        let mut w = 0;
        for c in l.chars() {
            match c {
                ' ' => w += 1,
                '\t' => w = (w / 8 + 1) * 8,
                '\r' => {}
                _ => return Some(w),
            }
        }
        None
    };
    let Some(min) = lines.iter().filter_map(|l| width(l)).min() else {
        return;
    };
    for l in lines.iter_mut() {
        let mut w = 0;
        let mut cut = 0;
        for (i, c) in l.char_indices() {
            if w >= min {
                break;
            }
            match c {
                ' ' => w += 1,
                '\t' => {
                    let next = (w / 8 + 1) * 8;
                    if next > min {
                        break;
                    }
                    w = next;
                }
                _ => break,
            }
            cut = i + c.len_utf8();
        }
        l.replace_range(..cut, "");
    }
}

/// Single-quote rules: only `\\` and `\<delimiter>` are escapes.
fn unescape_single(raw: &str, close: char, open: Option<char>) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some(&n) if n == '\\' || n == close || Some(n) == open => {
                    out.push(n);
                    chars.next();
                }
                _ => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Double-quote rules: the usual escapes; `#{…}` is kept as written, since its value is
/// only known at run time.
fn unescape_double(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = chars.get(i) else {
            out.push('\\');
            break;
        };
        i += 1;
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            's' => out.push(' '),
            'e' => out.push('\x1b'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'v' => out.push('\x0b'),
            '\n' => {}
            'u' => {
                if chars.get(i) == Some(&'{') {
                    let end = chars[i..].iter().position(|c| *c == '}').map(|p| i + p);
                    let Some(end) = end else {
                        continue;
                    };
                    let body: String = chars[i + 1..end].iter().collect();
                    for hex in body.split_whitespace() {
                        if let Some(ch) = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
                        {
                            out.push(ch);
                        }
                    }
                    i = end + 1;
                } else {
                    let hex: String = chars[i..].iter().take(4).collect();
                    if let Some(ch) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        out.push(ch);
                        i += 4;
                    }
                }
            }
            'x' => {
                let hex: String = chars[i..]
                    .iter()
                    .take(2)
                    .take_while(|c| c.is_ascii_hexdigit())
                    .collect();
                if let Ok(v) = u8::from_str_radix(&hex, 16) {
                    out.push(char::from(v));
                    i += hex.len();
                }
            }
            '0'..='7' => {
                let oct: String = chars[i - 1..]
                    .iter()
                    .take(3)
                    .take_while(|c| ('0'..='7').contains(*c))
                    .collect();
                if let Ok(v) = u8::from_str_radix(&oct, 8) {
                    out.push(char::from(v));
                }
                i += oct.len() - 1;
            }
            other => out.push(other),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Block matching

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
            Some(Tok::Ident(w)) => is_value_keyword(w) || !is_keyword(w),
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
            "if" | "unless" | "while" | "until" => {
                if !self.prev_ends_value() {
                    let looping = word == "while" || word == "until";
                    self.push_frame(FrameKind::Other, Closer::End, looping);
                }
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

fn set_description(control: &mut Control, label: &str, text: &str) {
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
