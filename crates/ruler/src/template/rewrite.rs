//! Parse-tree changes that make gotmpl print and bound execution the way the expander needs,
//! and Go's rendering of parse nodes for error messages (`at <humanize $value>`).
//!
//! - Every printing action gets a final `__wk_print` command, so values print as Go prints
//!   them (floats with `%v`, Grafana's `Labels` and `Value` through their `String()` methods).
//! - Arguments of `print`, `printf` and `println` pass through `__wk_arg`, which renders maps
//!   and lists the same way.
//! - Every `{{range}}` body and every named template body starts with a `__wk_tick` action
//!   that counts executions against a budget (gotmpl bounds recursion depth and range
//!   iterations, not the total work of nested calls).

use gotmpl::parse::{ActionNode, CommandNode, Expr, ListNode, Node, PipeNode, Pos, TemplateNode};

use super::funcs::{PRINT, PRINT_ARG, TICK};
use super::gofmt;

fn call(pos: Pos, name: &str, arg: Option<Expr>) -> CommandNode {
    let mut args = vec![Expr::Identifier(pos, name.into())];
    args.extend(arg);
    CommandNode { pos, args }
}

fn tick(pos: Pos) -> Node {
    Node::Action(ActionNode {
        pos,
        pipe: PipeNode {
            pos,
            decl: Vec::new(),
            commands: vec![call(pos, TICK, None)],
            is_assign: false,
        },
    })
}

/// Rewrites a template body; `counted` adds the budget tick at its start.
pub(crate) fn rewrite(list: &mut ListNode, counted: bool) {
    for node in &mut list.nodes {
        rewrite_node(node);
    }
    if counted {
        list.nodes.insert(0, tick(list.pos));
    }
}

fn rewrite_node(node: &mut Node) {
    match node {
        Node::Action(a) => {
            rewrite_pipe(&mut a.pipe);
            if a.pipe.decl.is_empty() {
                let pos = a.pipe.commands.last().map_or(a.pos, |c| c.pos);
                a.pipe.commands.push(call(pos, PRINT, None));
            }
        }
        Node::If(b) | Node::With(b) => {
            rewrite_pipe(&mut b.pipe);
            rewrite(&mut b.body, false);
            if let Some(e) = &mut b.else_body {
                rewrite(e, false);
            }
        }
        Node::Range(b) => {
            rewrite_pipe(&mut b.pipe);
            rewrite(&mut b.body, true);
            if let Some(e) = &mut b.else_body {
                rewrite(e, false);
            }
        }
        Node::Template(t) => {
            if let Some(p) = &mut t.pipe {
                rewrite_pipe(p);
            }
        }
        Node::List(l) => rewrite(l, false),
        Node::Text(_) | Node::Define(_) | Node::Break(_) | Node::Continue(_) => {}
    }
}

fn is_print(cmd: &CommandNode) -> bool {
    matches!(cmd.args.first(), Some(Expr::Identifier(_, n)) if matches!(n.as_str(), "print" | "printf" | "println"))
}

fn rewrite_pipe(pipe: &mut PipeNode) {
    let mut commands = Vec::with_capacity(pipe.commands.len());
    for (i, mut cmd) in std::mem::take(&mut pipe.commands).into_iter().enumerate() {
        for arg in &mut cmd.args {
            rewrite_expr(arg);
        }
        if is_print(&cmd) {
            for arg in cmd.args.iter_mut().skip(1) {
                let pos = arg.pos();
                let inner = std::mem::replace(arg, Expr::Nil(pos));
                *arg = Expr::Pipe(
                    pos,
                    PipeNode {
                        pos,
                        decl: Vec::new(),
                        commands: vec![call(pos, PRINT_ARG, Some(inner))],
                        is_assign: false,
                    },
                );
            }
            if i > 0 {
                // The piped value becomes the last argument: convert it first.
                commands.push(call(cmd.pos, PRINT_ARG, None));
            }
        }
        commands.push(cmd);
    }
    pipe.commands = commands;
}

fn rewrite_expr(expr: &mut Expr) {
    match expr {
        Expr::Pipe(_, p) => rewrite_pipe(p),
        Expr::Chain(_, inner, _) => rewrite_expr(inner),
        _ => {}
    }
}

/// Go's `CommandNode.String()`, with the expander's own wrapping removed.
pub(crate) fn command_string(cmd: &CommandNode, src: &str) -> String {
    let parts: Vec<String> = cmd
        .args
        .iter()
        .map(|a| match unwrap_print_arg(a) {
            Expr::Pipe(_, p) => format!("({})", pipe_string(p, src)),
            other => expr_string(other, src),
        })
        .collect();
    parts.join(" ")
}

/// `(__wk_arg X)` inserted by [`rewrite`] is shown as `X`.
fn unwrap_print_arg(e: &Expr) -> &Expr {
    if let Expr::Pipe(_, p) = e
        && p.decl.is_empty()
        && let [cmd] = p.commands.as_slice()
        && let [Expr::Identifier(_, name), inner] = cmd.args.as_slice()
        && name.as_str() == PRINT_ARG
    {
        return inner;
    }
    e
}

/// Go's `PipeNode.String()`, with the expander's own commands left out.
pub(crate) fn pipe_string(p: &PipeNode, src: &str) -> String {
    let mut out = String::new();
    if !p.decl.is_empty() {
        let decl: Vec<&str> = p.decl.iter().map(|d| d.as_str()).collect();
        out.push_str(&decl.join(", "));
        out.push_str(if p.is_assign { " = " } else { " := " });
    }
    let cmds: Vec<String> = p
        .commands
        .iter()
        .filter(|c| !matches!(c.args.as_slice(), [Expr::Identifier(_, n)] if n.as_str() == PRINT_ARG || n.as_str() == PRINT))
        .map(|c| command_string(c, src))
        .collect();
    out.push_str(&cmds.join(" | "));
    out
}

fn expr_string(e: &Expr, src: &str) -> String {
    match e {
        Expr::Dot(_) => ".".to_string(),
        Expr::Field(_, fields) => fields.iter().map(|f| format!(".{f}")).collect(),
        Expr::Variable(_, name, fields) => {
            let mut s = name.to_string();
            for f in fields {
                s.push('.');
                s.push_str(f);
            }
            s
        }
        Expr::Identifier(_, name) => name.to_string(),
        Expr::String(pos, value) => {
            source_token(src, pos.offset).unwrap_or_else(|| gofmt::quote(value))
        }
        Expr::Number(pos, n) => source_token(src, pos.offset).unwrap_or_else(|| match n {
            gotmpl::parse::Number::Int(i) => i.to_string(),
            gotmpl::parse::Number::Uint(u) => u.to_string(),
            gotmpl::parse::Number::Float(f) => gofmt::float_v(*f),
        }),
        Expr::Bool(_, b) => b.to_string(),
        Expr::Nil(_) => "nil".to_string(),
        Expr::Pipe(_, p) => format!("({})", pipe_string(p, src)),
        Expr::Chain(_, inner, fields) => {
            let mut s = match inner.as_ref() {
                Expr::Pipe(_, p) => format!("({})", pipe_string(p, src)),
                other => expr_string(other, src),
            };
            for f in fields {
                s.push('.');
                s.push_str(f);
            }
            s
        }
    }
}

/// The literal token (quoted string, raw string, char or number) starting at `offset`.
fn source_token(src: &str, offset: usize) -> Option<String> {
    let rest = src.get(offset..)?;
    let bytes = rest.as_bytes();
    let end = match bytes.first()? {
        q @ (b'"' | b'\'') => {
            let mut k = 1;
            while k < bytes.len() && bytes[k] != *q {
                if bytes[k] == b'\\' {
                    k += 1;
                }
                k += 1;
            }
            (k + 1).min(bytes.len())
        }
        b'`' => rest.get(1..)?.find('`').map_or(bytes.len(), |e| e + 2),
        _ => bytes
            .iter()
            .position(|b| b.is_ascii_whitespace() || matches!(b, b')' | b'(' | b'|' | b'}'))
            .unwrap_or(bytes.len()),
    };
    rest.get(..end).map(str::to_string)
}

/// Go's `TemplateNode.String()`: `{{template "name" pipeline}}`.
pub(crate) fn template_string(t: &TemplateNode, src: &str) -> String {
    match &t.pipe {
        Some(p) => format!(
            "{{{{template {} {}}}}}",
            gofmt::quote(&t.name),
            pipe_string(p, src)
        ),
        None => format!("{{{{template {}}}}}", gofmt::quote(&t.name)),
    }
}
