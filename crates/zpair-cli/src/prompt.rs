//! Questions on the terminal: a line, a password without echo, a yes.
//!
//! Passwords come from the first line of standard input with
//! `--password-stdin` (scripts), or from the terminal with echo turned off.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use zpair_core::Secret;

use crate::failure::Failure;

/// Reads one line from standard input, without its line ending; asks
/// `prompt` first (on stderr) when a person is typing.
pub fn read_line(prompt: &str) -> Result<String, Failure> {
    if std::io::stdin().is_terminal() {
        let _ = write!(std::io::stderr(), "{prompt}");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    let read = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::input(format!("Standard input could not be read ({e}).")))?;
    if read == 0 {
        return Err(Failure::input(format!(
            "Standard input ended before an answer to \"{}\".",
            prompt.trim()
        )));
    }
    trim_line_ending(&mut line);
    Ok(line)
}

/// The password: the first line of stdin with `from_stdin`, else typed on
/// the terminal without echo.
pub fn read_password(prompt: &str, from_stdin: bool) -> Result<Secret<String>, Failure> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::input(format!("Standard input could not be read ({e}).")))?;
        trim_line_ending(&mut line);
        let password = Secret::new(line);
        if password.expose().is_empty() {
            return Err(Failure::input("No password on standard input."));
        }
        return Ok(password);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::input(
            "Standard input is not a terminal: pass --password-stdin to read the password from it.",
        ));
    }
    read_hidden(prompt)
}

fn trim_line_ending(line: &mut String) {
    while line.ends_with(['\n', '\r']) {
        line.pop();
    }
}

#[cfg(unix)]
fn read_hidden(prompt: &str) -> Result<Secret<String>, Failure> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};

    let stdin = std::io::stdin();
    let fail = |e: std::io::Error| Failure::input(format!("The terminal could not be read ({e})."));
    let original = tcgetattr(&stdin).map_err(|e| fail(e.into()))?;
    let mut hidden = original.clone();
    hidden.local_modes.remove(LocalModes::ECHO);
    hidden.local_modes.insert(LocalModes::ECHONL);
    let _ = write!(std::io::stderr(), "{prompt}");
    let _ = std::io::stderr().flush();
    tcsetattr(&stdin, OptionalActions::Flush, &hidden).map_err(|e| fail(e.into()))?;
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    // Echo comes back whatever happened to the read.
    let restored = tcsetattr(&stdin, OptionalActions::Flush, &original);
    read.map_err(fail)?;
    restored.map_err(|e| fail(e.into()))?;
    trim_line_ending(&mut line);
    Ok(Secret::new(line))
}

#[cfg(not(unix))]
fn read_hidden(_prompt: &str) -> Result<Secret<String>, Failure> {
    Err(Failure::input(
        "Typing a password here is not supported on this system: pass --password-stdin.",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_of_every_platform_are_removed() {
        for (raw, clean) in [
            ("pw\n", "pw"),
            ("pw\r\n", "pw"),
            ("pw", "pw"),
            ("p w \n", "p w "),
        ] {
            let mut line = raw.to_owned();
            trim_line_ending(&mut line);
            assert_eq!(line, clean);
        }
    }
}
