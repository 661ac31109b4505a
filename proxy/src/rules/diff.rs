//! A readable line diff for golden-file failures: common head and tail trimmed, then a
//! longest-common-subsequence diff of the rest, shown with 3 lines of context
//! (`-` expected, `+` actual).

/// Lines of context around each change.
const CONTEXT: usize = 3;
/// Beyond this many differing lines on each side, the middle is shown whole (the LCS table
/// would be too large, and such a diff is unreadable anyway).
const MAX_LCS: usize = 2000;

/// The diff of `expected` and `actual` (empty when equal), each line prefixed by a space,
/// `-` or `+`, with `@@ line N` headers.
pub fn diff(expected: &str, actual: &str) -> String {
    if expected == actual {
        return String::new();
    }
    let old: Vec<&str> = expected.split('\n').collect();
    let new: Vec<&str> = actual.split('\n').collect();
    let head = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let tail = old[head..].iter().rev().zip(new[head..].iter().rev()).take_while(|(a, b)| a == b).count();
    let (a, b) = (&old[head..old.len() - tail], &new[head..new.len() - tail]);

    // Edit script over the middle: ' ' keep, '-' remove, '+' add.
    let mut ops: Vec<(char, &str)> = Vec::new();
    if a.len() <= MAX_LCS && b.len() <= MAX_LCS {
        let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
        for i in (0..a.len()).rev() {
            for j in (0..b.len()).rev() {
                lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            if i < a.len() && j < b.len() && a[i] == b[j] {
                ops.push((' ', a[i]));
                i += 1;
                j += 1;
            } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
                ops.push(('-', a[i]));
                i += 1;
            } else {
                ops.push(('+', b[j]));
                j += 1;
            }
        }
    } else {
        ops.extend(a.iter().map(|l| ('-', *l)));
        ops.extend(b.iter().map(|l| ('+', *l)));
    }

    let before = &old[head.saturating_sub(CONTEXT)..head];
    let after = &old[old.len() - tail..(old.len() - tail + CONTEXT.min(tail))];
    let mut out = format!("@@ expected line {} @@\n", head.saturating_sub(CONTEXT) + 1);
    let mut keep_run: Vec<&str> = Vec::new();
    for line in before {
        out.push_str(&format!("  {line}\n"));
    }
    for (op, line) in ops {
        if op == ' ' {
            keep_run.push(line);
            continue;
        }
        flush_context(&mut out, &mut keep_run);
        out.push_str(&format!("{op} {line}\n"));
    }
    flush_context(&mut out, &mut keep_run);
    for line in after {
        out.push_str(&format!("  {line}\n"));
    }
    out
}

/// Writes a run of unchanged lines between two changes, eliding its middle.
fn flush_context(out: &mut String, run: &mut Vec<&str>) {
    if run.len() > 2 * CONTEXT {
        for line in &run[..CONTEXT] {
            out.push_str(&format!("  {line}\n"));
        }
        out.push_str(&format!("  ... ({} unchanged lines)\n", run.len() - 2 * CONTEXT));
        for line in &run[run.len() - CONTEXT..] {
            out.push_str(&format!("  {line}\n"));
        }
    } else {
        for line in run.iter() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    run.clear();
}

#[cfg(test)]
mod tests {
    use super::diff;

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(diff("a\nb", "a\nb"), "");
    }

    #[test]
    fn shows_the_change_with_context() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9";
        let new = "1\n2\n3\n4\nfive\n6\n7\n8\n9";
        assert_eq!(diff(old, new), "@@ expected line 2 @@\n  2\n  3\n  4\n- 5\n+ five\n  6\n  7\n  8\n");
    }

    #[test]
    fn insertion_only() {
        assert_eq!(diff("a\nc", "a\nb\nc"), "@@ expected line 1 @@\n  a\n+ b\n  c\n");
    }
}
