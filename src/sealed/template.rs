//! `spec.template.data` rendering: a subset of Go `text/template` with Sprig functions, enough
//! for the upstream examples (`{{ .key }}`, `{{ toJson .key }}`, pipelines). Anything outside
//! the subset is an error that names it, never a silent difference.
//!
//! Supported:
//! - text and actions `{{ ... }}`, with `{{-` / `-}}` whitespace trimming and `{{/* comments */}}`;
//! - operands: `.` (the item map), `.key` (an item's decrypted value as a string; a missing
//!   item is Go's `<no value>`), `"strings"` with Go escapes, `` `raw strings` ``, integers,
//!   `true`, `false`, `nil`, and `( pipelines )`;
//! - pipelines `a | f x | g`, the piped value being the last argument, as in Go;
//! - functions: `index`, `print`, `printf` (`%s %v %d %q %%`), `len`, and Sprig's `toJson`,
//!   `toString`, `quote`, `squote`, `b64enc`, `b64dec`, `default`, `empty`, `trim`, `trimAll`,
//!   `trimPrefix`, `trimSuffix`, `upper`, `lower`, `replace`, `indent`, `nindent`, `cat`,
//!   `contains`, `hasPrefix`, `hasSuffix`, `sha256sum`.
//!
//! Not supported (an error): variables (`$x`), control actions (`if`, `range`, `with`,
//! `define`, `template`, `block`), other functions. Like the controller, `env`, `expandenv`
//! and `getHostByName` are never available. Sprig's `b64dec` returns the error text on bad
//! input; here it is an error.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use zeroize::Zeroizing;

/// The decrypted items a template sees, by name.
pub type Items = BTreeMap<String, Zeroizing<Vec<u8>>>;

/// Renders every template against `items`; on error, the failing key and why.
pub fn render_all(templates: &[(&str, &str)], items: &Items) -> Result<super::PlainItems, (String, String)> {
    templates
        .iter()
        .map(|(k, t)| render(t, items).map(|out| (k.to_string(), out)).map_err(|e| (k.to_string(), e)))
        .collect()
}

/// Renders one template.
pub fn render(src: &str, items: &Items) -> Result<Zeroizing<Vec<u8>>, String> {
    let mut out = Zeroizing::new(String::new());
    for piece in split(src)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Action(a) => {
                let mut p = Parser { toks: lex(a)?, pos: 0 };
                let pipeline = p.pipeline()?;
                if p.pos != p.toks.len() {
                    return Err(format!("unexpected {:?} in {{{{{a}}}}}", p.toks[p.pos]));
                }
                let v = eval_pipeline(&pipeline, items)?;
                out.push_str(&v.print()?);
                if out.len() > MAX_VALUE {
                    return Err(too_large("the template", out.len()));
                }
            }
        }
    }
    Ok(Zeroizing::new(out.as_bytes().to_vec()))
}

enum Piece<'a> {
    Text(&'a str),
    Action(&'a str),
}

/// Text and actions, with trim markers applied and comments dropped.
fn split(src: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = src;
    let mut trim_next = false;
    while let Some(open) = rest.find("{{") {
        let mut text = &rest[..open];
        if trim_next {
            text = text.trim_start();
        }
        let mut body = &rest[open + 2..];
        if let Some(b) = body.strip_prefix("- ").or(body.strip_prefix("-\n")).or(body.strip_prefix("-\t")) {
            text = text.trim_end();
            body = b;
        }
        pieces.push(Piece::Text(text));
        let close = find_close(body).ok_or("unclosed action: missing }}")?;
        let mut action = &body[..close];
        trim_next = false;
        if let Some(a) = action.strip_suffix(" -").or(action.strip_suffix("\n-")).or(action.strip_suffix("\t-")) {
            action = a;
            trim_next = true;
        }
        let trimmed = action.trim();
        if !(trimmed.starts_with("/*") && trimmed.ends_with("*/")) {
            pieces.push(Piece::Action(action));
        }
        rest = &body[close + 2..];
    }
    pieces.push(Piece::Text(if trim_next { rest.trim_start() } else { rest }));
    Ok(pieces)
}

/// The `}}` that ends an action, skipping quoted strings.
fn find_close(body: &str) -> Option<usize> {
    let b = body.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'`' => {
                i += 1;
                while i < b.len() && b[i] != b'`' {
                    i += 1;
                }
            }
            b'}' if b.get(i + 1) == Some(&b'}') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Dot,
    Field(String),
    Ident(String),
    Str(String),
    Int(i64),
    Pipe,
    Open,
    Close,
}

fn lex(a: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = a.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let word_end = |from: usize| {
            (from..chars.len())
                .find(|&j| !(chars[j].is_alphanumeric() || chars[j] == '_' || chars[j] == '-'))
                .unwrap_or(chars.len())
        };
        match c {
            _ if c.is_whitespace() => i += 1,
            '|' => (toks.push(Tok::Pipe), i += 1).1,
            '(' => (toks.push(Tok::Open), i += 1).1,
            ')' => (toks.push(Tok::Close), i += 1).1,
            '.' => {
                let end = (i + 1..chars.len())
                    .find(|&j| !(chars[j].is_alphanumeric() || chars[j] == '_'))
                    .unwrap_or(chars.len());
                if end == i + 1 {
                    toks.push(Tok::Dot);
                } else {
                    toks.push(Tok::Field(chars[i + 1..end].iter().collect()));
                }
                i = end;
            }
            '"' => {
                let (s, next) = go_string(&chars, i)?;
                toks.push(Tok::Str(s));
                i = next;
            }
            '`' => {
                let end = (i + 1..chars.len()).find(|&j| chars[j] == '`').ok_or("unterminated raw string")?;
                toks.push(Tok::Str(chars[i + 1..end].iter().collect()));
                i = end + 1;
            }
            '$' => return Err("template variables ($...) are not supported".into()),
            _ if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) => {
                let end = word_end(i + 1);
                let text: String = chars[i..end].iter().collect();
                toks.push(Tok::Int(text.parse().map_err(|_| format!("unsupported number {text:?}"))?));
                i = end;
            }
            _ if c.is_alphabetic() || c == '_' => {
                let end =
                    (i..chars.len()).find(|&j| !(chars[j].is_alphanumeric() || chars[j] == '_')).unwrap_or(chars.len());
                toks.push(Tok::Ident(chars[i..end].iter().collect()));
                i = end;
            }
            _ => return Err(format!("unexpected character {c:?} in an action")),
        }
    }
    Ok(toks)
}

/// A Go interpreted string literal starting at `chars[start] == '"'`; returns it and the index
/// after the closing quote.
fn go_string(chars: &[char], start: usize) -> Result<(String, usize), String> {
    let mut s = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '"' => return Ok((s, i + 1)),
            '\\' => {
                let e = *chars.get(i + 1).ok_or("unterminated string")?;
                s.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '\\' => '\\',
                    '"' => '"',
                    '\'' => '\'',
                    _ => return Err(format!("unsupported escape \\{e} in a string")),
                });
                i += 2;
            }
            c => {
                s.push(c);
                i += 1;
            }
        }
    }
    Err("unterminated string".into())
}

#[derive(Debug)]
enum Arg {
    Dot,
    Field(String),
    Str(String),
    Int(i64),
    Bool(bool),
    Nil,
    Func(String),
    Sub(Vec<Vec<Arg>>),
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

/// Largest `indent`/`nindent` width: a template comes from the manifest, which an attacker may
/// write, and must not be able to exhaust memory.
const MAX_INDENT: usize = 1024;

const CONTROL: &[&str] = &["if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"];

impl Parser {
    fn pipeline(&mut self) -> Result<Vec<Vec<Arg>>, String> {
        let mut cmds = vec![self.command()?];
        while self.toks.get(self.pos) == Some(&Tok::Pipe) {
            self.pos += 1;
            cmds.push(self.command()?);
        }
        Ok(cmds)
    }

    fn command(&mut self) -> Result<Vec<Arg>, String> {
        let mut args = Vec::new();
        while let Some(t) = self.toks.get(self.pos).cloned() {
            let arg = match t {
                Tok::Pipe | Tok::Close => break,
                Tok::Dot => Arg::Dot,
                Tok::Field(f) => Arg::Field(f),
                Tok::Str(s) => Arg::Str(s),
                Tok::Int(n) => Arg::Int(n),
                Tok::Ident(w) if w == "true" || w == "false" => Arg::Bool(w == "true"),
                Tok::Ident(w) if w == "nil" => Arg::Nil,
                Tok::Ident(w) if CONTROL.contains(&w.as_str()) => {
                    return Err(format!("the {w:?} action is not supported in template data"))
                }
                Tok::Ident(w) => Arg::Func(w),
                Tok::Open => {
                    self.pos += 1;
                    let sub = self.pipeline()?;
                    if self.toks.get(self.pos) != Some(&Tok::Close) {
                        return Err("missing )".into());
                    }
                    Arg::Sub(sub)
                }
            };
            self.pos += 1;
            args.push(arg);
        }
        if args.is_empty() {
            return Err("empty command in a pipeline".into());
        }
        Ok(args)
    }
}

#[derive(Clone, Debug)]
enum V {
    Str(String),
    Int(i64),
    Bool(bool),
    Nil,
    Items,
}

impl V {
    fn print(&self) -> Result<String, String> {
        Ok(match self {
            V::Str(s) => s.clone(),
            V::Int(n) => n.to_string(),
            V::Bool(b) => b.to_string(),
            V::Nil => "<no value>".into(),
            V::Items => return Err("printing the whole item map is not supported".into()),
        })
    }

    /// Sprig's `strval`/`toString` (nil prints as `<nil>` there).
    fn string(&self) -> Result<String, String> {
        match self {
            V::Nil => Ok("<nil>".into()),
            other => other.print(),
        }
    }

    fn as_str(&self, func: &str) -> Result<String, String> {
        match self {
            V::Str(s) => Ok(s.clone()),
            V::Nil => Err(format!("{func}: invalid value; expected string (a missing item?)")),
            _ => Err(format!("{func}: expected a string argument")),
        }
    }

    fn as_int(&self, func: &str) -> Result<i64, String> {
        match self {
            V::Int(n) => Ok(*n),
            _ => Err(format!("{func}: expected an integer argument")),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            V::Str(s) => s.is_empty(),
            V::Int(n) => *n == 0,
            V::Bool(b) => !b,
            V::Nil => true,
            V::Items => false,
        }
    }
}

fn eval_pipeline(cmds: &[Vec<Arg>], items: &Items) -> Result<V, String> {
    let mut piped: Option<V> = None;
    for cmd in cmds {
        piped = Some(eval_command(cmd, piped.take(), items)?);
    }
    piped.ok_or_else(|| "empty pipeline".into())
}

fn eval_command(cmd: &[Arg], piped: Option<V>, items: &Items) -> Result<V, String> {
    match &cmd[0] {
        Arg::Func(name) => {
            let mut args = cmd[1..].iter().map(|a| eval_arg(a, items)).collect::<Result<Vec<_>, _>>()?;
            args.extend(piped);
            call(name, args, items)
        }
        _ if cmd.len() > 1 || piped.is_some() => Err(format!("can't give arguments to a non-function ({:?})", &cmd[0])),
        arg => eval_arg(arg, items),
    }
}

fn eval_arg(arg: &Arg, items: &Items) -> Result<V, String> {
    Ok(match arg {
        Arg::Dot => V::Items,
        Arg::Field(f) => lookup(items, f)?,
        Arg::Str(s) => V::Str(s.clone()),
        Arg::Int(n) => V::Int(*n),
        Arg::Bool(b) => V::Bool(*b),
        Arg::Nil => V::Nil,
        Arg::Func(name) => call(name, Vec::new(), items)?,
        Arg::Sub(p) => eval_pipeline(p, items)?,
    })
}

fn lookup(items: &Items, key: &str) -> Result<V, String> {
    match items.get(key) {
        None => Ok(V::Nil),
        Some(bytes) => std::str::from_utf8(bytes)
            .map(|s| V::Str(s.to_string()))
            .map_err(|_| format!("item {key:?} is not UTF-8 text, so templates cannot use it")),
    }
}

/// A Secret holds at most 1 MiB: no value a template makes may be larger. (Without a bound,
/// a few chained `replace "" "xx"` grow a 600-byte template past any memory: the unsealer
/// renders what a SealedSecret's author writes.)
const MAX_VALUE: usize = 1 << 20;

fn too_large(name: &str, len: usize) -> String {
    format!("{name}: the result would be {len} bytes, more than a Secret can hold (1 MiB)")
}

/// The length of `s` with every `from` replaced by `to`, without making it (Go's and Rust's
/// `replace` with an empty `from` insert `to` before every character and at the end).
fn replaced_len(s: &str, from: &str, to: &str) -> usize {
    let n = if from.is_empty() { s.chars().count() + 1 } else { s.matches(from).count() };
    (s.len() - n * from.len()).saturating_add(n.saturating_mul(to.len()))
}

fn call(name: &str, args: Vec<V>, items: &Items) -> Result<V, String> {
    // The functions that join their arguments make at least their total length.
    if matches!(name, "print" | "cat" | "printf" | "quote" | "squote") {
        let total =
            args.iter().map(|a| if let V::Str(s) = a { s.len() } else { 0 }).fold(0usize, usize::saturating_add);
        if total > MAX_VALUE {
            return Err(too_large(name, total));
        }
    }
    let v = call_unbounded(name, args, items)?;
    match &v {
        V::Str(s) if s.len() > MAX_VALUE => Err(too_large(name, s.len())),
        _ => Ok(v),
    }
}

fn call_unbounded(name: &str, args: Vec<V>, items: &Items) -> Result<V, String> {
    let arity = |n: usize| {
        if args.len() == n {
            Ok(())
        } else {
            Err(format!("{name}: wants {n} argument(s), got {}", args.len()))
        }
    };
    let s = |i: usize| args[i].as_str(name);
    Ok(match name {
        "index" => {
            arity(2)?;
            match &args[0] {
                V::Items => lookup(items, &s(1)?)?,
                _ => return Err("index: only `index . \"key\"` is supported".into()),
            }
        }
        "print" | "cat" => {
            let sep = if name == "cat" { " " } else { "" };
            let parts: Vec<String> = args
                .iter()
                .filter(|a| name != "cat" || !matches!(a, V::Nil))
                .map(V::string)
                .collect::<Result<_, _>>()?;
            V::Str(parts.join(sep))
        }
        "printf" => V::Str(printf(&args)?),
        "len" => (arity(1)?, V::Int(s(0)?.len() as i64)).1,
        "toJson" => (arity(1)?, V::Str(to_json(&args[0])?)).1,
        "toString" => (arity(1)?, V::Str(args[0].string()?)).1,
        "quote" | "squote" => {
            let q = |a: &V| a.string().map(|t| if name == "quote" { go_quote(&t) } else { format!("'{t}'") });
            V::Str(args.iter().filter(|a| !matches!(a, V::Nil)).map(q).collect::<Result<Vec<_>, _>>()?.join(" "))
        }
        "b64enc" => (arity(1)?, V::Str(STANDARD.encode(s(0)?))).1,
        "b64dec" => {
            arity(1)?;
            let bytes = STANDARD.decode(s(0)?).map_err(|_| "b64dec: the argument is not valid base64")?;
            V::Str(String::from_utf8(bytes).map_err(|_| "b64dec: the decoded bytes are not UTF-8")?)
        }
        "default" => (arity(2)?, if args[1].is_empty() { args[0].clone() } else { args[1].clone() }).1,
        "empty" => (arity(1)?, V::Bool(args[0].is_empty())).1,
        "trim" => (arity(1)?, V::Str(s(0)?.trim().to_string())).1,
        "trimAll" => (arity(2)?, V::Str(s(1)?.trim_matches(|c| s(0).unwrap_or_default().contains(c)).to_string())).1,
        "trimPrefix" => (arity(2)?, V::Str(s(1)?.strip_prefix(&s(0)?).map(str::to_string).unwrap_or(s(1)?))).1,
        "trimSuffix" => (arity(2)?, V::Str(s(1)?.strip_suffix(&s(0)?).map(str::to_string).unwrap_or(s(1)?))).1,
        "upper" => (arity(1)?, V::Str(s(0)?.to_uppercase())).1,
        "lower" => (arity(1)?, V::Str(s(0)?.to_lowercase())).1,
        "replace" => {
            arity(3)?;
            let (from, to, text) = (s(0)?, s(1)?, s(2)?);
            let len = replaced_len(&text, &from, &to);
            if len > MAX_VALUE {
                return Err(too_large(name, len));
            }
            V::Str(text.replace(&from, &to))
        }
        "contains" => (arity(2)?, V::Bool(s(1)?.contains(&s(0)?))).1,
        "hasPrefix" => (arity(2)?, V::Bool(s(1)?.starts_with(&s(0)?))).1,
        "hasSuffix" => (arity(2)?, V::Bool(s(1)?.ends_with(&s(0)?))).1,
        "indent" | "nindent" => {
            arity(2)?;
            let width = usize::try_from(args[0].as_int(name)?).map_err(|_| format!("{name}: negative width"))?;
            if width > MAX_INDENT {
                return Err(format!("{name}: width {width} is larger than {MAX_INDENT}"));
            }
            let pad = " ".repeat(width);
            let text = s(1)?;
            let len = replaced_len(&text, "\n", &format!("\n{pad}")).saturating_add(width + 1);
            if len > MAX_VALUE {
                return Err(too_large(name, len));
            }
            let body = format!("{pad}{}", text.replace('\n', &format!("\n{pad}")));
            V::Str(if name == "nindent" { format!("\n{body}") } else { body })
        }
        "sha256sum" => {
            use sha2::Digest;
            (arity(1)?, V::Str(sha2::Sha256::digest(s(0)?.as_bytes()).iter().map(|b| format!("{b:02x}")).collect())).1
        }
        "env" | "expandenv" | "getHostByName" => {
            return Err(format!("function {name:?} is not available (as in the controller)"))
        }
        _ => return Err(format!("function {name:?} is not supported by gitseal's template subset")),
    })
}

fn printf(args: &[V]) -> Result<String, String> {
    let Some(V::Str(format)) = args.first() else {
        return Err("printf: the first argument must be a format string".into());
    };
    let mut rest = args[1..].iter();
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let verb = chars.next().ok_or("printf: format ends with %")?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let arg = rest.next().ok_or("printf: missing argument")?;
        match verb {
            's' | 'v' => out.push_str(&arg.string()?),
            'd' => out.push_str(&arg.as_int("printf %d")?.to_string()),
            'q' => out.push_str(&go_quote(&arg.string()?)),
            _ => return Err(format!("printf: the verb %{verb} is not supported")),
        }
    }
    Ok(out)
}

/// Go `strconv.Quote` for the usual characters.
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go `json.Marshal` of a value (HTML-safe escaping of `<`, `>`, `&`, as Go does).
fn to_json(v: &V) -> Result<String, String> {
    let s = match v {
        V::Nil => return Ok("null".into()),
        V::Int(n) => return Ok(n.to_string()),
        V::Bool(b) => return Ok(b.to_string()),
        V::Items => return Err("toJson of the whole item map is not supported".into()),
        V::Str(s) => s,
    };
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items() -> Items {
        [("user", "admin"), ("password", "p\"w<d>"), ("server1", "a\nb"), ("my-key", "dash")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), Zeroizing::new(v.as_bytes().to_vec())))
            .collect()
    }

    fn r(t: &str) -> String {
        String::from_utf8(render(t, &items()).unwrap().to_vec()).unwrap()
    }

    /// Found by fuzzing: chained `replace "" "..."` doubled the text at each step past any
    /// memory. Every value a template makes is bounded by what a Secret can hold.
    #[test]
    fn values_larger_than_a_secret_are_refused_before_they_are_made() {
        let mut t = String::from("{{ .user");
        for _ in 0..40 {
            t.push_str(" | replace \"\" \"xx\"");
        }
        t.push_str(" }}");
        let e = render(&t, &items()).unwrap_err();
        assert!(e.starts_with("replace: the result would be") && e.contains("1 MiB"), "{e}");
        let e = render("{{ .user | indent 1000 | indent 1000 | indent 1000 }}", &items());
        assert!(e.is_ok(), "{e:?}");
        let big = format!("{{{{ \"{}\" | nindent 1000 }}}}", "a\\n".repeat(2000));
        assert!(render(&big, &items()).unwrap_err().starts_with("nindent: the result would be"));
        let cat = format!(
            "{{{{ cat {} }}}}",
            "(replace \"\" \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\") "
                .repeat(1000)
        );
        assert!(render(&cat, &items()).unwrap_err().starts_with("cat: the result would be"));
        assert_eq!(r("{{ replace \"\" \"-\" .user }}"), "-a-d-m-i-n-");
    }

    #[test]
    fn renders_the_upstream_examples() {
        assert_eq!(r("{{ toJson .server1 }}"), "\"a\\nb\"");
        assert_eq!(r("user={{ .user }} pass={{ .password }}"), "user=admin pass=p\"w<d>");
        assert_eq!(r("{\n  \"pw\": {{ toJson .password }}\n}"), "{\n  \"pw\": \"p\\\"w\\u003cd\\u003e\"\n}");
        assert_eq!(r("{{ index . \"my-key\" }}"), "dash");
    }

    #[test]
    fn pipelines_and_sprig_functions() {
        assert_eq!(r("{{ .user | upper | quote }}"), "\"ADMIN\"");
        assert_eq!(r("{{ .missing | default \"x\" }}"), "x");
        assert_eq!(r("{{ .missing }}"), "<no value>");
        assert_eq!(r("{{ .user | b64enc }}|{{ \"YWRtaW4=\" | b64dec }}"), "YWRtaW4=|admin");
        assert_eq!(r("{{ printf \"%s:%s\" .user (.user | upper) }}"), "admin:ADMIN");
        assert_eq!(r("a:{{ .server1 | nindent 2 }}"), "a:\n  a\n  b");
        assert_eq!(
            r("{{ trimSuffix \"in\" .user }} {{ replace \"a\" \"A\" .user }} {{ squote .user }}"),
            "adm Admin 'admin'"
        );
        assert_eq!(r("x  {{- .user -}}  y {{/* comment */}}z"), "xadminy z");
    }

    #[test]
    fn huge_indents_are_refused_not_allocated() {
        let err = render("{{ indent 9223372036854775807 \"a\" }}", &items()).unwrap_err();
        assert!(err.contains("larger than"), "{err}");
        assert!(render("{{ nindent 5000 \"a\" }}", &items()).is_err());
    }

    #[test]
    fn unsupported_constructs_fail_loudly() {
        let e = |t: &str| render(t, &items()).unwrap_err();
        assert!(e("{{ if .user }}x{{ end }}").contains("\"if\" action is not supported"));
        assert!(e("{{ $x := .user }}").contains("variables"));
        assert!(e("{{ env \"HOME\" }}").contains("not available"));
        assert!(e("{{ sprig_unknown .user }}").contains("not supported"));
        assert!(e("{{ .user ").contains("unclosed"));
        assert!(e("{{ b64enc .missing }}").contains("expected string"));
        assert!(e("{{ printf \"%x\" .user }}").contains("%x"));
    }
}
