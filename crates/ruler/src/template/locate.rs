//! Finds where an execution error happened. gotmpl's execution errors carry no position, while
//! Go reports the failing command (`template: name:1:79: executing "name" at <humanize $value>`).
//! Execution is deterministic and stops at the first error, so the failing node is found by
//! re-running shortened copies of the tree: the shortest prefix of a list that still fails ends
//! with the failing node, and the search descends into that node's pipeline or bodies.

use gotmpl::parse::{ActionNode, BranchNode, Expr, ListNode, Node, PipeNode};

use super::rewrite;

/// Where an execution error happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Located {
    /// Byte offset of the failing command in the template source.
    pub(crate) offset: usize,
    /// Go's rendering of the failing node.
    pub(crate) context: String,
    /// The function the failing command calls, if any.
    pub(crate) func: Option<String>,
}

/// Runs a variant of the main tree; `Some(error text)` when it fails.
pub(crate) type Runner<'a> = dyn FnMut(ListNode) -> Option<String> + 'a;

struct Search<'a, 'b> {
    run: &'b mut Runner<'a>,
    budget: usize,
    src: &'b str,
    target: &'b str,
}

impl Search<'_, '_> {
    /// Whether `tree` fails with the original error; `None` once the run budget is spent.
    fn fails(&mut self, tree: ListNode) -> Option<bool> {
        if self.budget == 0 {
            return None;
        }
        self.budget -= 1;
        Some((self.run)(tree).is_some_and(|e| e == self.target))
    }

    /// The smallest `k` in `1..=n` for which `variant(k)` fails.
    fn shortest(&mut self, n: usize, variant: &dyn Fn(usize) -> ListNode) -> Option<usize> {
        if n == 0 || !self.fails(variant(n))? {
            return None;
        }
        let (mut lo, mut hi) = (1, n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.fails(variant(mid))? {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Some(lo)
    }

    fn list(&mut self, list: &ListNode, wrap: &dyn Fn(ListNode) -> ListNode) -> Option<Located> {
        let with_prefix = |k: usize| {
            wrap(ListNode {
                pos: list.pos,
                nodes: list.nodes[..k].to_vec(),
            })
        };
        let k = self.shortest(list.nodes.len(), &with_prefix)?;
        let node = &list.nodes[k - 1];
        let replace = |replacement: Node| {
            let mut nodes = list.nodes[..k - 1].to_vec();
            nodes.push(replacement);
            wrap(ListNode {
                pos: list.pos,
                nodes,
            })
        };
        match node {
            Node::Action(a) => self.pipe(&a.pipe, &|pipe| {
                replace(Node::Action(ActionNode { pos: a.pos, pipe }))
            }),
            Node::If(b) => self.branch(b, Node::If, "if", &replace),
            Node::With(b) => self.branch(b, Node::With, "with", &replace),
            Node::Range(b) => self.branch(b, Node::Range, "range", &replace),
            Node::List(l) => self.list(l, &|l| replace(Node::List(l))),
            Node::Template(t) => Some(Located {
                offset: t.pos.offset,
                context: rewrite::template_string(t, self.src),
                func: None,
            }),
            Node::Text(_) | Node::Define(_) | Node::Break(_) | Node::Continue(_) => None,
        }
    }

    /// Searches an `if`, `with` or `range` node: its pipeline, then the body or the else body.
    fn branch(
        &mut self,
        b: &BranchNode,
        kind: fn(BranchNode) -> Node,
        keyword: &str,
        replace: &dyn Fn(Node) -> ListNode,
    ) -> Option<Located> {
        // The pipeline alone, as a plain action.
        let pipe_only = |pipe: PipeNode| {
            replace(Node::Action(ActionNode {
                pos: b.pos,
                pipe: PipeNode {
                    decl: Vec::new(),
                    ..pipe
                },
            }))
        };
        if self.fails(pipe_only(b.pipe.clone()))? {
            return self.pipe(&b.pipe, &pipe_only);
        }
        let with = |body: ListNode, else_body: Option<ListNode>| {
            replace(kind(BranchNode {
                pos: b.pos,
                pipe: b.pipe.clone(),
                body,
                else_body,
            }))
        };
        // The node itself (a range over something it cannot iterate).
        if self.fails(with(empty(&b.body), b.else_body.as_ref().map(empty)))? {
            return Some(Located {
                offset: b.pos.offset,
                context: format!(
                    "{{{{{keyword} {}}}}}",
                    rewrite::pipe_string(&b.pipe, self.src)
                ),
                func: None,
            });
        }
        match &b.else_body {
            Some(e) if !self.fails(with(b.body.clone(), Some(empty(e))))? => {
                self.list(e, &|l| with(b.body.clone(), Some(l)))
            }
            Some(e) => self.list(&b.body, &|l| with(l, Some(empty(e)))),
            None => self.list(&b.body, &|l| with(l, None)),
        }
    }

    fn pipe(&mut self, pipe: &PipeNode, wrap: &dyn Fn(PipeNode) -> ListNode) -> Option<Located> {
        let with_prefix = |j: usize| {
            wrap(PipeNode {
                pos: pipe.pos,
                decl: pipe.decl.clone(),
                commands: pipe.commands[..j].to_vec(),
                is_assign: pipe.is_assign,
            })
        };
        let j = self.shortest(pipe.commands.len(), &with_prefix)?;
        let cmd = &pipe.commands[j - 1];
        let func = match cmd.args.first() {
            Some(Expr::Identifier(_, name)) => Some(name.to_string()),
            _ => None,
        };
        Some(Located {
            offset: cmd.pos.offset,
            context: rewrite::command_string(cmd, self.src),
            func,
        })
    }
}

fn empty(list: &ListNode) -> ListNode {
    ListNode {
        pos: list.pos,
        nodes: Vec::new(),
    }
}

/// Locates the node of `main` that fails with `target` (at most `budget` runs).
pub(crate) fn locate(
    main: &ListNode,
    src: &str,
    target: &str,
    budget: usize,
    run: &mut Runner<'_>,
) -> Option<Located> {
    let mut search = Search {
        run,
        budget,
        src,
        target,
    };
    search.list(main, &|l| l)
}
