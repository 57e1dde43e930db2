//! Server-side expressions (`__expr__`).
