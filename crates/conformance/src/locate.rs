//! The line of a JSON pointer in a JSON text, so a bad contract is reported as
//! `file:line`. A small scanner: it follows the pointer through objects and arrays,
//! skipping strings and nested values, and counts newlines on the way.

/// The 1-based line where the value at `pointer` starts, or where its nearest existing
/// parent starts.
pub fn line_of(text: &str, pointer: &str) -> usize {
    let bytes = text.as_bytes();
    let mut position = skip_whitespace(bytes, 0);
    let tokens: Vec<String> =
        pointer.split('/').skip(1).map(|token| token.replace("~1", "/").replace("~0", "~")).collect();
    for token in tokens {
        match bytes.get(position) {
            Some(b'{') => match find_key(bytes, position, &token) {
                Some(value) => position = value,
                None => break,
            },
            Some(b'[') => match token.parse::<usize>().ok().and_then(|index| find_index(bytes, position, index)) {
                Some(value) => position = value,
                None => break,
            },
            _ => break,
        }
    }
    1 + bytes[..position.min(bytes.len())].iter().filter(|byte| **byte == b'\n').count()
}

fn skip_whitespace(bytes: &[u8], mut position: usize) -> usize {
    while bytes.get(position).is_some_and(|byte| byte.is_ascii_whitespace()) {
        position += 1;
    }
    position
}

/// The end of the string starting at `position` (a `"`), after its closing quote.
fn skip_string(bytes: &[u8], mut position: usize) -> usize {
    position += 1;
    while let Some(byte) = bytes.get(position) {
        match byte {
            b'\\' => position += 2,
            b'"' => return position + 1,
            _ => position += 1,
        }
    }
    position
}

/// The end of the value starting at `position`.
fn skip_value(bytes: &[u8], position: usize) -> usize {
    match bytes.get(position) {
        Some(b'"') => skip_string(bytes, position),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut at = position;
            while let Some(byte) = bytes.get(at) {
                match byte {
                    b'"' => {
                        at = skip_string(bytes, at);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return at + 1;
                        }
                    }
                    _ => {}
                }
                at += 1;
            }
            at
        }
        _ => {
            let mut at = position;
            while bytes.get(at).is_some_and(|byte| !matches!(byte, b',' | b'}' | b']') && !byte.is_ascii_whitespace()) {
                at += 1;
            }
            at
        }
    }
}

fn find_key(bytes: &[u8], object: usize, key: &str) -> Option<usize> {
    let mut at = skip_whitespace(bytes, object + 1);
    while bytes.get(at) == Some(&b'"') {
        let end = skip_string(bytes, at);
        let name: String = serde_json::from_slice(&bytes[at..end]).ok()?;
        at = skip_whitespace(bytes, end);
        if bytes.get(at) != Some(&b':') {
            return None;
        }
        at = skip_whitespace(bytes, at + 1);
        if name == key {
            return Some(at);
        }
        at = skip_whitespace(bytes, skip_value(bytes, at));
        if bytes.get(at) == Some(&b',') {
            at = skip_whitespace(bytes, at + 1);
        }
    }
    None
}

fn find_index(bytes: &[u8], array: usize, index: usize) -> Option<usize> {
    let mut at = skip_whitespace(bytes, array + 1);
    for _ in 0..index {
        if matches!(bytes.get(at), None | Some(b']')) {
            return None;
        }
        at = skip_whitespace(bytes, skip_value(bytes, at));
        if bytes.get(at) != Some(&b',') {
            return None;
        }
        at = skip_whitespace(bytes, at + 1);
    }
    (!matches!(bytes.get(at), None | Some(b']'))).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::line_of;

    #[test]
    fn finds_nested_values() {
        let text = "{\n  \"a\": \"x}\\\"\",\n  \"steps\": [\n    {\"n\": 1},\n    {\n      \"expect\": [{\"status\": \"two\"}]\n    }\n  ]\n}";
        assert_eq!(line_of(text, ""), 1);
        assert_eq!(line_of(text, "/steps"), 3);
        assert_eq!(line_of(text, "/steps/0"), 4);
        assert_eq!(line_of(text, "/steps/1/expect/0/status"), 6);
        assert_eq!(line_of(text, "/steps/7"), 3, "a missing element reports its parent");
        assert_eq!(line_of(text, "/missing/key"), 1);
    }
}
