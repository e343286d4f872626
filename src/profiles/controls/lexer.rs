//! The lexer for the Ruby subset of control files: strings of every kind (with their
//! escapes applied), heredocs, `%` literals, regexes, symbols, numbers, comments and
//! `=begin`/`=end`, `__END__`. Where Ruby's own grammar needs context (`/` as regex or
//! division, `%(` as string or modulo, `<<X` as heredoc or append) it uses Ruby's rule
//! of thumb: a value is expected after an operator or keyword, and after a method name
//! followed by a space when no space follows the character.

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
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
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) line: usize,
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
    "**=", "<=>", "===", "...", "&&=", "||=", "::", "=>", "->", "&.", "==", "!=", "=~", "!~", "<=",
    ">=", "&&", "||", "..", "+=", "-=", "*=", "/=", "**", "<<", ">>", "(", ")", "[", "]", "{", "}",
    ",", ";",
];
const SINGLE_OPS: [&str; 17] = [
    ".", "+", "-", "*", "/", "%", "=", "<", ">", "!", "&", "|", "^", "~", "?", ":", "\\",
];

pub(super) struct Lexer {
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
    pub(super) fn new(source: &str) -> Self {
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

    pub(super) fn run(mut self) -> Vec<Token> {
        while let Some(c) = self.peek(0) {
            if self.at_line_start() {
                if self.rest_starts_with("=begin") && self.peek(6).is_none_or(|c| c.is_whitespace())
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
                while self
                    .peek(0)
                    .is_some_and(|c| is_ident_char(c) || c == '@' || c == '$')
                {
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
            while self
                .peek(0)
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                self.pos += 1;
            }
            let digits: String = self.src[s..self.pos]
                .iter()
                .filter(|c| **c != '_')
                .collect();
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
        let text: String = self.src[start..self.pos]
            .iter()
            .filter(|c| **c != '_')
            .collect();
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
        if self.pos == start + 1
            && self.src[start] == '$'
            && self.peek(0).is_some_and(|c| !c.is_whitespace())
        {
            self.pos += 1;
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
pub(super) fn is_value_keyword(word: &str) -> bool {
    matches!(
        word,
        "end" | "self" | "true" | "false" | "nil" | "__FILE__" | "__LINE__" | "__method__"
    )
}

pub(super) fn is_keyword(word: &str) -> bool {
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
