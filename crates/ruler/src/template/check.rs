//! Parse-time checks Go's text/template makes and gotmpl 0.6.1 does not: block structure
//! (`{{end}}`/`{{else}}` without a block, a block left open, `{{break}}` outside `{{range}}`,
//! `{{define}}` below the top level), undefined variables and undefined functions. Each
//! finding carries the byte offset where Go would stop, so the earliest one wins.

use std::collections::HashSet;

use gotmpl::parse::{Expr, ListNode, Node, PipeNode};

/// A parse error found by these checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Issue {
    /// Byte offset in the template source.
    pub(crate) offset: usize,
    /// Go's message, without the `template: name:line:` prefix.
    pub(crate) message: String,
}

/// Returns the earliest of two optional issues.
fn earliest(a: Option<Issue>, b: Option<Issue>) -> Option<Issue> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.offset < a.offset { b } else { a }),
        (a, b) => a.or(b),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    If,
    With,
    Range,
    /// `define` and `block` bodies: separate templates.
    Template,
}

/// An action's leading keyword, as the structure check needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyword {
    If,
    With,
    Range,
    Define,
    Block,
    /// `else`; `true` for `else if`/`else with`.
    Else(bool),
    End,
    Break,
    Continue,
}

/// Scans the actions of `src` (default delimiters) and returns each keyword action's offset.
fn keyword_actions(src: &str) -> Vec<(usize, Keyword)> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(rel) = src.get(i..).and_then(|s| s.find("{{")) {
        let start = i + rel;
        let mut j = start + 2;
        // Trim marker: "-" followed by a space character.
        if bytes.get(j) == Some(&b'-')
            && bytes
                .get(j + 1)
                .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        {
            j += 1;
        }
        while bytes.get(j).is_some_and(u8::is_ascii_whitespace) {
            j += 1;
        }
        if src.get(j..).is_some_and(|s| s.starts_with("/*")) {
            // Comment: ends at "*/" (then the closing delimiter).
            let Some(end) = src.get(j + 2..).and_then(|s| s.find("*/")) else {
                break;
            };
            let after = j + 2 + end + 2;
            i = src
                .get(after..)
                .and_then(|s| s.find("}}"))
                .map_or(src.len(), |e| after + e + 2);
            continue;
        }
        let word_len = bytes
            .get(j..)
            .unwrap_or(&[])
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        let word = src.get(j..j + word_len).unwrap_or("");
        let keyword = match word {
            "if" => Some(Keyword::If),
            "with" => Some(Keyword::With),
            "range" => Some(Keyword::Range),
            "define" => Some(Keyword::Define),
            "block" => Some(Keyword::Block),
            "end" => Some(Keyword::End),
            "break" => Some(Keyword::Break),
            "continue" => Some(Keyword::Continue),
            "else" => {
                let rest = src.get(j + word_len..).unwrap_or("").trim_start();
                let next_len = rest
                    .bytes()
                    .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                    .count();
                let next = rest.get(..next_len).unwrap_or("");
                Some(Keyword::Else(next == "if" || next == "with"))
            }
            _ => None,
        };
        if let Some(k) = keyword {
            out.push((start, k));
        }
        // Find the closing delimiter, skipping quoted text.
        let mut k = j + word_len;
        let mut closed = None;
        while k < bytes.len() {
            match bytes[k] {
                q @ (b'"' | b'\'') => {
                    k += 1;
                    while k < bytes.len() && bytes[k] != q {
                        if bytes[k] == b'\\' {
                            k += 1;
                        }
                        k += 1;
                    }
                    k += 1;
                }
                b'`' => {
                    k += 1;
                    while k < bytes.len() && bytes[k] != b'`' {
                        k += 1;
                    }
                    k += 1;
                }
                b'}' if bytes.get(k + 1) == Some(&b'}') => {
                    closed = Some(k + 2);
                    break;
                }
                _ => k += 1,
            }
        }
        match closed {
            Some(end) => i = end,
            None => break,
        }
    }
    out
}

/// Go's block-structure errors, which gotmpl accepts silently (it even drops the text after
/// a stray `{{end}}`).
pub(crate) fn structure(src: &str) -> Option<Issue> {
    let mut stack: Vec<(Block, bool)> = Vec::new();
    let issue = |offset: usize, message: &str| {
        Some(Issue {
            offset,
            message: message.to_string(),
        })
    };
    for (offset, kw) in keyword_actions(src) {
        match kw {
            Keyword::If => stack.push((Block::If, false)),
            Keyword::With => stack.push((Block::With, false)),
            Keyword::Range => stack.push((Block::Range, false)),
            Keyword::Block => stack.push((Block::Template, false)),
            Keyword::Define => {
                if !stack.is_empty() {
                    return issue(offset, "unexpected <define> in operand");
                }
                stack.push((Block::Template, false));
            }
            Keyword::End => {
                if stack.pop().is_none() {
                    return issue(offset, "unexpected {{end}}");
                }
            }
            Keyword::Else(chained) => match stack.last_mut() {
                Some((Block::Template, _)) | None => return issue(offset, "unexpected {{else}}"),
                Some((_, true)) => return issue(offset, "expected end; found {{else}}"),
                Some((_, seen)) => {
                    if !chained {
                        *seen = true;
                    }
                }
            },
            Keyword::Break | Keyword::Continue => {
                let in_range = stack
                    .iter()
                    .rev()
                    .take_while(|(b, _)| *b != Block::Template)
                    .any(|(b, _)| *b == Block::Range);
                if !in_range {
                    let name = if kw == Keyword::Break {
                        "break"
                    } else {
                        "continue"
                    };
                    return issue(offset, &format!("{{{{{name}}}}} outside {{{{range}}}}"));
                }
            }
        }
    }
    if stack.is_empty() {
        None
    } else {
        issue(src.len(), "unexpected EOF")
    }
}

/// Variable and function checks over a parsed tree (`{{define}}` bodies are trees of their own,
/// each starting with only `$` in scope).
pub(crate) fn tree(list: &ListNode, funcs: &HashSet<&str>) -> Option<Issue> {
    let mut scope = vec!["$".to_string()];
    walk_list(list, funcs, &mut scope)
}

fn walk_list(list: &ListNode, funcs: &HashSet<&str>, scope: &mut Vec<String>) -> Option<Issue> {
    let mut found = None;
    for node in &list.nodes {
        found = earliest(found, walk_node(node, funcs, scope));
    }
    found
}

fn walk_node(node: &Node, funcs: &HashSet<&str>, scope: &mut Vec<String>) -> Option<Issue> {
    match node {
        Node::Action(a) => walk_pipe(&a.pipe, funcs, scope),
        Node::If(b) | Node::With(b) | Node::Range(b) => {
            let mark = scope.len();
            let mut found = walk_pipe(&b.pipe, funcs, scope);
            found = earliest(found, walk_list(&b.body, funcs, scope));
            if let Some(e) = &b.else_body {
                found = earliest(found, walk_list(e, funcs, scope));
            }
            scope.truncate(mark);
            found
        }
        Node::Template(t) => t.pipe.as_ref().and_then(|p| walk_pipe(p, funcs, scope)),
        Node::List(l) => walk_list(l, funcs, scope),
        Node::Text(_) | Node::Define(_) | Node::Break(_) | Node::Continue(_) => None,
    }
}

/// Declared variables come into scope before the pipeline is read (Go's parser order).
fn walk_pipe(pipe: &PipeNode, funcs: &HashSet<&str>, scope: &mut Vec<String>) -> Option<Issue> {
    scope.extend(pipe.decl.iter().map(ToString::to_string));
    let mut found = None;
    for cmd in &pipe.commands {
        for arg in &cmd.args {
            found = earliest(found, walk_expr(arg, funcs, scope));
        }
    }
    found
}

fn walk_expr(expr: &Expr, funcs: &HashSet<&str>, scope: &mut Vec<String>) -> Option<Issue> {
    match expr {
        Expr::Identifier(pos, name) if !funcs.contains(name.as_str()) => Some(Issue {
            offset: pos.offset,
            message: format!("function {} not defined", super::gofmt::quote(name)),
        }),
        Expr::Variable(pos, name, _) if !scope.iter().any(|v| v == name.as_str()) => Some(Issue {
            offset: pos.offset,
            message: format!("undefined variable {}", super::gofmt::quote(name)),
        }),
        Expr::Pipe(_, pipe) => {
            // A parenthesized pipeline's declarations stay in scope (Go does the same).
            walk_pipe(pipe, funcs, scope)
        }
        Expr::Chain(_, inner, _) => walk_expr(inner, funcs, scope),
        _ => None,
    }
}
