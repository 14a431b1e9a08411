//! `gitseal exec-env` and `gitseal exec-file`: the values reach the command, its exit code comes
//! back, and no plaintext stays on disk afterwards.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::peers::{run, Work, DEMO_RECIPIENT};

/// A work dir with `s.yaml` (encrypted) and an empty private (0700) `tmp/` to use as
/// XDG_RUNTIME_DIR and TMPDIR, so the plaintext goes there and not to /dev/shm.
fn setup(plain: &str) -> Work {
    let work = Work::new();
    work.write("plain.yaml", plain);
    let out = run(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "plain.yaml"]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    work.write("s.yaml", &out.stdout);
    std::fs::create_dir(work.path("tmp")).unwrap();
    let private = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o700);
    std::fs::set_permissions(work.path("tmp"), private).unwrap();
    work
}

fn gitseal(work: &Work) -> Command {
    let mut cmd = work.gitseal_with_key();
    cmd.env("TMPDIR", work.path("tmp")).env("XDG_RUNTIME_DIR", work.path("tmp"));
    cmd
}

fn assert_tmp_empty(work: &Work) {
    let left: Vec<_> = std::fs::read_dir(work.path("tmp")).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

const PLAIN: &str = "DB_USER: admin\nDB_PASS: 'p@ss word'\nPORT: 5432\nDEBUG: true\n";

#[test]
fn exec_env_passes_top_level_values_and_the_exit_code() {
    let work = setup(PLAIN);
    let out =
        run(gitseal(&work).args(["exec-env", "s.yaml", r#"echo "$DB_USER|$DB_PASS|$PORT|$DEBUG"; exit 7"#]), None);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "admin|p@ss word|5432|true\n");
    assert_eq!(out.status.code(), Some(7), "{}", String::from_utf8_lossy(&out.stderr));
    let ok = run(gitseal(&work).args(["exec-env", "s.yaml", "true"]), None);
    assert_eq!(ok.status.code(), Some(0));
}

#[test]
fn exec_env_pristine_starts_from_an_empty_environment() {
    let work = setup(PLAIN);
    let probe = r#"echo "${OUTSIDE:-unset} $DB_USER""#;
    let inherited = run(gitseal(&work).env("OUTSIDE", "here").args(["exec-env", "s.yaml", probe]), None);
    assert_eq!(String::from_utf8_lossy(&inherited.stdout), "here admin\n");
    let pristine = run(gitseal(&work).env("OUTSIDE", "here").args(["exec-env", "--pristine", "s.yaml", probe]), None);
    assert_eq!(String::from_utf8_lossy(&pristine.stdout), "unset admin\n");
}

#[test]
fn exec_env_refuses_complex_values() {
    let work = setup("a: 1\nnested:\n  b: secret\nlist: [x]\n");
    let out = run(gitseal(&work).args(["exec-env", "s.yaml", "echo ran"]), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("s.yaml") && stderr.contains("nested, list"), "{stderr}");
    assert!(!stderr.contains("secret") && out.stdout.is_empty(), "{stderr}");
}

#[test]
fn exec_file_uses_a_private_fifo_and_removes_it() {
    let work = setup(PLAIN);
    let script = r#"test -p {} || exit 9; stat -c '%a' {} "$(dirname {})"; cat {}"#;
    let out = run(gitseal(&work).args(["exec-file", "s.yaml", script]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("600\n700\n{PLAIN}"));
    assert_tmp_empty(&work);
}

#[test]
fn exec_file_no_fifo_filename_output_type_and_exit_code() {
    let work = setup(PLAIN);
    let script = r#"test -f {} || exit 9; basename {}; stat -c '%a' {}; cat {}; cat {} >/dev/null; exit 5"#;
    let out = run(
        gitseal(&work).args([
            "exec-file",
            "--no-fifo",
            "--filename",
            "db.json",
            "--output-type",
            "json",
            "s.yaml",
            script,
        ]),
        None,
    );
    assert_eq!(out.status.code(), Some(5), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("db.json\n600\n{\n"), "{stdout}");
    assert!(stdout.contains("\"DB_PASS\": \"p@ss word\""), "{stdout}");
    assert_tmp_empty(&work);
}

/// A command that never opens the FIFO must not leave gitseal waiting for a reader.
#[test]
fn exec_file_returns_when_the_command_ignores_the_fifo() {
    let work = setup(PLAIN);
    let mut child = gitseal(&work)
        .args(["exec-file", "s.yaml", "exit 3"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("gitseal exec-file did not return after the command exited");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(3));
    assert_tmp_empty(&work);
}

/// sops 3.13 refuses a `--filename` that is not a local path (getsops/sops#2155); gitseal
/// takes only a plain name, and an empty one means the default, as in sops.
#[test]
fn exec_file_rejects_a_path_as_filename() {
    let work = setup(PLAIN);
    for name in ["../x", "..", ".", "/tmp/x", "sub/x", "a/../b"] {
        let out = run(gitseal(&work).args(["exec-file", "--filename", name, "s.yaml", "cat {}"]), None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(stderr.contains(&format!("--filename {name:?}")) && stderr.contains("plain file name"), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(out.stdout.is_empty());
        assert_tmp_empty(&work);
    }
    let out = run(gitseal(&work).args(["exec-file", "--filename", "", "s.yaml", "basename {}; cat {}"]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("tmp-file\n{PLAIN}"));
    assert_tmp_empty(&work);
}

/// `--decryption-order` / `SOPS_DECRYPTION_ORDER` on exec-env and exec-file (sops 3.12+): the
/// order is read and checked as for decrypt (a kind named twice exits 112, nothing runs).
#[test]
fn exec_takes_the_decryption_order() {
    let work = setup(PLAIN);
    for sub in [["exec-env", "s.yaml", "echo $DB_USER"], ["exec-file", "s.yaml", "head -1 {}"]] {
        let out = run(gitseal(&work).args([sub[0], "--decryption-order", "pgp,age"]).args(&sub[1..]), None);
        assert!(out.status.success(), "{}: {}", sub[0], String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("admin"), "{}", sub[0]);
        let out = run(gitseal(&work).args([sub[0], "--decryption-order", "age,age"]).args(&sub[1..]), None);
        assert_eq!(out.status.code(), Some(112), "{}: {}", sub[0], String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout.is_empty());
        let out = run(gitseal(&work).env("SOPS_DECRYPTION_ORDER", "age,nope").args(sub), None);
        assert_eq!(out.status.code(), Some(112), "{}: {}", sub[0], String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout.is_empty());
        assert_tmp_empty(&work);
    }
}

/// SIGTERM to gitseal while the command runs: the command is ended and the plaintext removed.
#[test]
fn exec_file_sigterm_removes_the_plaintext() {
    for fifo in [false, true] {
        let work = setup(PLAIN);
        let marker = work.path("started");
        let script = format!(r#"echo {{}} > {}; exec sleep 60"#, marker.display());
        let mut cmd = gitseal(&work);
        cmd.arg("exec-file");
        if !fifo {
            cmd.arg("--no-fifo");
        }
        let mut child = cmd
            .args(["s.yaml", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !std::fs::read_to_string(&marker).is_ok_and(|s| s.ends_with('\n')) {
            assert!(Instant::now() < deadline, "the command did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        let plaintext = std::fs::read_to_string(&marker).unwrap().trim_end().to_string();
        assert!(std::path::Path::new(&plaintext).exists());
        assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "gitseal did not exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(143), "fifo: {fifo}");
        assert_tmp_empty(&work);
    }
}

/// A command that would leave `marker` behind if gitseal ran it.
fn touch(work: &Work) -> String {
    format!("touch {}", work.path("marker").display())
}

/// A refusal: exit `code`, one line on stderr that mentions `needle`, nothing run (no marker)
/// and nothing left in the private TMPDIR.
fn assert_refused(work: &Work, out: &std::process::Output, code: i32, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(needle), "{stderr}");
    assert!(out.stdout.is_empty() && !work.exists("marker"), "the command ran: {stderr}");
    assert_tmp_empty(work);
}

/// Whether the tests run as root (needed to switch users). Not root: a note and `false` on a
/// laptop, a failure under CI (which runs as root).
fn running_as_root() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&out.stdout).trim() == "0" {
        return true;
    }
    assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "the --user tests need root under CI");
    eprintln!("skipping: --user needs root");
    false
}

/// An account of the user database: name, uid, gid, home directory.
struct Account {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
}

/// The accounts of `getent passwd ARGS`.
fn accounts(args: &[&str]) -> Vec<Account> {
    let out = Command::new("getent").arg("passwd").args(args).output().unwrap();
    let parse = |line: &str| {
        let f: Vec<&str> = line.split(':').collect();
        assert_eq!(f.len(), 7, "getent passwd: {line}");
        Account { name: f[0].into(), uid: f[2].parse().unwrap(), gid: f[3].parse().unwrap(), home: f[5].into() }
    };
    String::from_utf8(out.stdout).unwrap().lines().map(parse).collect()
}

/// `nobody`'s uid, gid and home directory.
fn nobody() -> (u32, u32, String) {
    let Account { uid, gid, home, .. } = accounts(&["nobody"]).pop().expect("a nobody account");
    (uid, gid, home)
}

/// Lets other users into the work dir and its `tmp/` (tempfile makes them 0700).
fn open_to_others(work: &Work, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    for dir in [work.dir().to_path_buf(), work.path("tmp")] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

/// --user takes the ids of the passwd entry (sops 3.11 used the uid as the gid: an account
/// whose gid differs shows it), drops supplementary groups and sets HOME, USER and LOGNAME; a
/// uid names the same user; --pristine keeps the user's variables.
#[test]
fn exec_env_user_runs_the_command_as_that_user() {
    if !running_as_root() {
        return;
    }
    let work = setup(PLAIN);
    open_to_others(&work, 0o755);
    let mut users = accounts(&["nobody"]);
    match accounts(&[]).into_iter().find(|a| a.uid != a.gid && a.uid != 0) {
        Some(other) => users.push(other),
        None => eprintln!("note: no account with a gid other than its uid; checked nobody only"),
    }
    let probe = r#"id -u; id -g; id -G; echo "$HOME|$USER|$LOGNAME|$DB_USER""#;
    for Account { name, uid, gid, home } in &users {
        let want = format!("{uid}\n{gid}\n{gid}\n{home}|{name}|{name}|admin\n");
        for (user, pristine) in [(name.clone(), false), (name.clone(), true), (uid.to_string(), false)] {
            let mut cmd = gitseal(&work);
            cmd.args(["exec-env", "--user", &user]);
            if pristine {
                cmd.arg("--pristine");
            }
            let out = run(cmd.args(["s.yaml", probe]), None);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(String::from_utf8_lossy(&out.stdout), want, "--user {user}, pristine: {pristine}");
        }
    }
}

#[test]
fn exec_user_unknown_is_refused_before_anything_runs() {
    let work = setup(PLAIN);
    for command in ["exec-env", "exec-file"] {
        let out = run(gitseal(&work).args([command, "--user", "no-such-user-x", "s.yaml", &touch(&work)]), None);
        assert_refused(&work, &out, 1, "no-such-user-x");
    }
}

/// gitseal not running as root cannot switch to another user: a clear refusal, nothing run.
#[test]
fn exec_user_other_than_self_needs_root() {
    let Some(setpriv) = which("setpriv") else {
        eprintln!("skipping: setpriv not found");
        return;
    };
    if !running_as_root() {
        return;
    }
    let work = setup(PLAIN);
    // Writable by all, so that a command wrongly run as nobody could leave the marker.
    open_to_others(&work, 0o777);
    let (uid, gid, _) = nobody();
    // gitseal(&work) with these arguments, run as nobody.
    let as_nobody = |args: &[&str]| {
        let mut inner = gitseal(&work);
        inner.args(args);
        let mut cmd = Command::new(&setpriv);
        cmd.arg(format!("--reuid={uid}")).arg(format!("--regid={gid}")).arg("--clear-groups");
        cmd.arg(inner.get_program()).args(inner.get_args()).current_dir(work.dir());
        for (k, v) in inner.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        run(&mut cmd, None)
    };
    if !as_nobody(&["--version"]).status.success() {
        eprintln!("skipping: nobody cannot run the gitseal binary here (a private checkout directory?)");
        return;
    }
    for command in ["exec-env", "exec-file"] {
        let out = as_nobody(&[command, "--user", "root", "s.yaml", &touch(&work)]);
        assert_refused(&work, &out, 1, "not root");
    }
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(name)).find(|p| p.is_file())
}

/// exec-file --user: the plaintext (regular file or FIFO) is the user's, mode 0600; its directory
/// stays root's, mode 0710 with the user's group; all of it is removed afterwards.
#[test]
fn exec_file_user_reads_the_plaintext_as_that_user() {
    if !running_as_root() {
        return;
    }
    let (uid, gid, _) = nobody();
    for fifo in [false, true] {
        let work = setup(PLAIN);
        open_to_others(&work, 0o755);
        let mut cmd = gitseal(&work);
        cmd.args(["exec-file", "--user", "nobody"]);
        if !fifo {
            cmd.arg("--no-fifo");
        }
        let script = r#"id -u; stat -c '%u %a' {}; stat -c '%u:%g %a' "$(dirname {})"; cat {}"#;
        let out = run(cmd.args(["s.yaml", script]), None);
        assert!(out.status.success(), "fifo: {fifo}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{uid}\n{uid} 600\n0:{gid} 710\n{PLAIN}"));
        assert_tmp_empty(&work);
    }
}

/// --same-process: gitseal becomes the shell (same pid); output, exit code, --pristine and --user
/// come through as with a child.
#[test]
fn exec_env_same_process_replaces_gitseal() {
    let work = setup(PLAIN);
    let child = gitseal(&work)
        .env("OUTSIDE", "here")
        .args(["exec-env", "--same-process", "s.yaml", r#"echo "$$ ${OUTSIDE:-unset} $DB_USER"; exit 9"#])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(9), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{pid} here admin\n"));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));

    let mut cmd = gitseal(&work);
    cmd.env("OUTSIDE", "here").args(["exec-env", "--same-process", "--pristine"]);
    let root = running_as_root();
    if root {
        open_to_others(&work, 0o755);
        cmd.args(["--user", "nobody"]);
    }
    let out = run(cmd.args(["s.yaml", r#"echo "${OUTSIDE:-unset} $USER $DB_USER""#]), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let user = if root { "nobody" } else { "" };
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("unset {user} admin\n"));
}

/// --background: gitseal returns 0 (with a deprecation warning) while the command still runs.
#[test]
fn exec_env_background_returns_without_waiting() {
    let work = setup(PLAIN);
    let go = work.path("go");
    let marker = work.path("marker");
    // Waits (at most 30 s) for the test to create `go`, so it is certainly still running when
    // gitseal returns; then writes the value it got.
    let script = format!(
        r#"exec >/dev/null 2>&1; i=0; while [ ! -e {go} ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; echo "$DB_USER" > {marker}.tmp; mv {marker}.tmp {marker}"#,
        go = go.display(),
        marker = marker.display()
    );
    let mut child = gitseal(&work)
        .args(["exec-env", "--background", "s.yaml", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            std::fs::write(&go, "").unwrap();
            panic!("gitseal exec-env --background waited for the command");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!marker.exists(), "the command finished before it was let go");
    std::fs::write(&go, "").unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("deprecated"), "{stderr}");
    while !marker.exists() {
        assert!(Instant::now() < deadline, "the background command did not run");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(work.read_string("marker"), "admin\n");
}

/// A background command would outlive the plaintext file, so exec-file refuses it.
#[test]
fn exec_file_background_is_refused() {
    let work = setup(PLAIN);
    let out = run(gitseal(&work).args(["exec-file", "--background", "s.yaml", &touch(&work)]), None);
    assert_refused(&work, &out, 1, "--background");
}

/// sops `ErrorConflictingParameters`.
#[test]
fn exec_env_same_process_with_background_exits_8() {
    let work = setup(PLAIN);
    let out = run(gitseal(&work).args(["exec-env", "--same-process", "--background", "s.yaml", &touch(&work)]), None);
    assert_refused(&work, &out, 8, "--background");
}

/// --keyservice (flag or SOPS_KEYSERVICE) is refused; --enable-local-keyservice is accepted.
#[test]
fn exec_keyservice_is_refused_and_local_keyservice_accepted() {
    let work = setup(PLAIN);
    for command in ["exec-env", "exec-file"] {
        let by_flag =
            run(gitseal(&work).args([command, "--keyservice", "tcp://localhost:5000", "s.yaml", &touch(&work)]), None);
        assert_refused(&work, &by_flag, 1, "key services are not supported");
        let by_env = run(
            gitseal(&work).env("SOPS_KEYSERVICE", "unix:///tmp/ks.sock").args([command, "s.yaml", &touch(&work)]),
            None,
        );
        assert_refused(&work, &by_env, 1, "key services are not supported");
        for flag in ["--enable-local-keyservice", "--enable-local-keyservice=false"] {
            let out = run(gitseal(&work).args([command, flag, "s.yaml", "echo ran"]), None);
            assert!(out.status.success(), "{flag}: {}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(String::from_utf8_lossy(&out.stdout), "ran\n");
        }
    }
}

/// While gitseal holds the plaintext (here: while the command of exec-env runs), its core size
/// limit is 0 and the command inherits it, so no crash of either writes the secrets to disk.
#[test]
fn no_core_dump_while_the_plaintext_is_held() {
    let work = setup(PLAIN);
    // Started with a soft limit above 0 (the hard limit of a container may be 0: then the test
    // cannot tell, and says so).
    let mut cmd = gitseal(&work);
    let program = cmd.get_program().to_owned();
    let mut shell = Command::new("sh");
    shell.args(["-c", "ulimit -S -c 4096 || exit 99; exec \"$@\"", "sh"]).arg(program);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => shell.env(k, v),
            None => shell.env_remove(k),
        };
    }
    shell.current_dir(work.dir());
    cmd = shell;
    let out = run(cmd.args(["exec-env", "s.yaml", "grep 'core file' /proc/$PPID/limits; ulimit -S -c"]), None);
    if out.status.code() == Some(99) {
        eprintln!("skipping: the hard core size limit here is 0");
        return;
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut lines = stdout.lines();
    let parent = lines.next().unwrap_or_default();
    assert!(parent.split_whitespace().nth(4) == Some("0"), "gitseal's limit: {stdout}");
    assert_eq!(lines.next(), Some("0"), "the command's soft limit: {stdout}");
}
