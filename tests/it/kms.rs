//! AWS KMS master keys against moto server (PyPI `moto[server]`, in `.peers/venv`), started by
//! each test on 127.0.0.1 on a free port and killed when the test ends: gitseal encrypts and real
//! sops decrypts and the reverse, with an encryption context and with a role assumed through
//! STS; a wrong context fails; an unreachable endpoint fails quickly. Nothing leaves 127.0.0.1:
//! the endpoint is set with `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_KMS`), credentials are fake,
//! and the instance metadata service is disabled.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::peers::{find_peer, manifest_dir, must, run, Peer, Work, DEMO_RECIPIENT};

const PLAIN: &str = "db:\n    user: admin\n    password: hunter2\nport: 5432\n";
const ROLE: &str = "arn:aws:iam::123456789012:role/gitseal-test";

/// A moto server on 127.0.0.1, killed on drop.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that nothing listens on (the OS's choice, released again).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

impl Moto {
    /// Starts moto, waiting at most 30 s until it accepts connections. `None`: moto is missing
    /// (the test is skipped; under CI it fails).
    fn start() -> Option<Moto> {
        let server = find_peer("moto_server")?;
        let port = free_port();
        let child = server
            .cmd()
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not listen on port {port} within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(moto)
    }

    /// A new symmetric KMS key in moto; its ARN (made with boto3, which moto brings along).
    fn create_key(&self) -> String {
        let py = manifest_dir().join(".peers/venv/bin/python");
        let script = "import boto3, sys\n\
            kms = boto3.client('kms', endpoint_url=sys.argv[1], region_name='us-east-1')\n\
            print(kms.create_key()['KeyMetadata']['Arn'])\n";
        let mut cmd = Command::new(py);
        aws_env(&mut cmd, &self.endpoint);
        let out = must(cmd.args(["-c", script, &self.endpoint]), None);
        String::from_utf8(out).unwrap().trim().to_string()
    }
}

/// Fake credentials, a region, the endpoint, no shared config and no instance metadata.
fn aws_env<'a>(cmd: &'a mut Command, endpoint: &str) -> &'a mut Command {
    for var in ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL_KMS", "AWS_ENDPOINT_URL_STS"] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_SESSION_TOKEN", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
}

fn gitseal(work: &Work, moto: &Moto) -> Command {
    let mut cmd = work.gitseal();
    aws_env(&mut cmd, &moto.endpoint);
    cmd
}

fn sops(work: &Work, sops: &Peer, moto: &Moto) -> Command {
    let mut cmd = work.peer(sops);
    aws_env(&mut cmd, &moto.endpoint);
    cmd
}

#[test]
fn sops_decrypts_what_gitseal_wrapped_with_kms_and_the_reverse() {
    let (Some(moto), Some(sops_peer)) = (Moto::start(), find_peer("sops")) else { return };
    let work = Work::new();
    let arn = moto.create_key();
    work.write("plain.yaml", PLAIN);
    let enc = must(
        gitseal(&work, &moto).args([
            "encrypt",
            "--kms",
            &arn,
            "--encryption-context",
            "env:test,app:demo",
            "plain.yaml",
        ]),
        None,
    );
    let enc = String::from_utf8(enc).unwrap();
    work.write("enc.yaml", &enc);
    // The kms entry in sops's field order; context sorted; aws_profile always written.
    let sops_block = enc.split("\nsops:\n").nth(1).unwrap();
    let lines: Vec<&str> = sops_block.lines().collect();
    assert_eq!(lines[0].trim(), "kms:", "{enc}");
    let col = lines[1].find("- ").expect("a list item") + 2;
    let entry: Vec<&str> = lines[1..]
        .iter()
        .take_while(|l| l.get(..col).is_some_and(|p| p.trim().is_empty() || p.trim() == "-"))
        .filter(|l| !l[col..].starts_with(' '))
        .map(|l| l[col..].split(':').next().unwrap())
        .collect();
    assert_eq!(entry, ["arn", "context", "created_at", "enc", "aws_profile"], "{enc}");
    assert!(enc.contains("app: demo\n") && enc.find("app: demo") < enc.find("env: test"), "{enc}");
    assert!(enc.contains("aws_profile: \"\""), "{enc}");

    let out = must(sops(&work, &sops_peer, &moto).args(["decrypt", "enc.yaml"]), None);
    assert_eq!(String::from_utf8(out).unwrap(), PLAIN);
    let out = must(gitseal(&work, &moto).args(["decrypt", "enc.yaml"]), None);
    assert_eq!(String::from_utf8(out).unwrap(), PLAIN);

    // The reverse: sops wraps, gitseal opens.
    must(
        sops(&work, &sops_peer, &moto).args([
            "encrypt",
            "--kms",
            &arn,
            "--encryption-context",
            "app:demo",
            "--output",
            "sops.yaml",
            "plain.yaml",
        ]),
        None,
    );
    let out = must(gitseal(&work, &moto).args(["decrypt", "sops.yaml"]), None);
    assert_eq!(String::from_utf8(out).unwrap(), PLAIN);

    // AWS_ENDPOINT_URL_KMS alone is enough too.
    let mut cmd = gitseal(&work, &moto);
    cmd.env_remove("AWS_ENDPOINT_URL").env("AWS_ENDPOINT_URL_KMS", &moto.endpoint);
    assert_eq!(String::from_utf8(must(cmd.args(["decrypt", "sops.yaml"]), None)).unwrap(), PLAIN);
}

#[test]
fn roles_are_assumed_through_sts_both_ways() {
    let (Some(moto), Some(sops_peer)) = (Moto::start(), find_peer("sops")) else { return };
    let work = Work::new();
    let arn = moto.create_key();
    work.write("plain.json", "{\"password\": \"hunter2\"}\n");
    let key = format!("{arn}+{ROLE}");
    let enc = must(gitseal(&work, &moto).args(["encrypt", "--kms", &key, "plain.json"]), None);
    let text = String::from_utf8(enc.clone()).unwrap();
    assert!(text.contains(&format!("\"role\": \"{ROLE}\"")), "{text}");
    work.write("enc.json", enc);
    let out = must(sops(&work, &sops_peer, &moto).args(["decrypt", "enc.json"]), None);
    assert!(String::from_utf8(out).unwrap().contains("hunter2"));

    must(sops(&work, &sops_peer, &moto).args(["encrypt", "--kms", &key, "--output", "sops.json", "plain.json"]), None);
    let out = must(gitseal(&work, &moto).args(["decrypt", "sops.json"]), None);
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["password"], "hunter2");
}

#[test]
fn a_wrong_encryption_context_fails() {
    let Some(moto) = Moto::start() else { return };
    let work = Work::new();
    let arn = moto.create_key();
    work.write("plain.yaml", PLAIN);
    let enc = must(
        gitseal(&work, &moto).args(["encrypt", "--kms", &arn, "--encryption-context", "env:test", "plain.yaml"]),
        None,
    );
    let enc = String::from_utf8(enc).unwrap();
    work.write("wrong.yaml", enc.replace("env: test", "env: prod"));
    let out = run(gitseal(&work, &moto).args(["decrypt", "--output", "out.yaml", "wrong.yaml"]), None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(128), "{err}");
    assert!(err.lines().next().unwrap().contains("wrong.yaml"), "{err}");
    assert!(err.contains(&format!("kms {arn}")) && err.contains("encryption context"), "{err}");
    assert!(!work.exists("out.yaml"));
    assert!(!err.contains("hunter2"));

    // A bad --encryption-context is sops's exit 6, before anything is read or called.
    let out = run(
        gitseal(&work, &moto).args(["encrypt", "--kms", &arn, "--encryption-context", "nocolon", "plain.yaml"]),
        None,
    );
    assert_eq!(out.status.code(), Some(6), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nocolon"));
    // A malformed ARN is refused at once.
    let out = run(gitseal(&work, &moto).args(["encrypt", "--kms", "arn:aws:kms:nowhere", "plain.yaml"]), None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("arn:aws:kms:nowhere"));
}

#[test]
fn an_unreachable_endpoint_fails_quickly_and_clearly() {
    let work = Work::new();
    work.write("plain.yaml", PLAIN);
    let closed = format!("http://127.0.0.1:{}", free_port());
    let arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let mut cmd = work.gitseal();
    aws_env(&mut cmd, &closed);
    let started = Instant::now();
    let out = run(cmd.args(["encrypt", "--kms", arn, "--output", "enc.yaml", "plain.yaml"]), None);
    let took = started.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(took < Duration::from_secs(30), "took {took:?}");
    assert!(err.contains("plain.yaml") && err.contains(arn), "{err}");
    assert!(err.contains("dispatch") || err.contains("connect") || err.contains("refused"), "{err}");
    assert!(!work.exists("enc.yaml"));

    // Decrypting: exit 128, the key named in the report.
    let meta = format!(
        "{PLAIN}sops:\n    kms:\n        - arn: {arn}\n          created_at: \"2026-01-01T00:00:00Z\"\n          enc: AQICAHg=\n          aws_profile: \"\"\n    lastmodified: \"2026-01-01T00:00:00Z\"\n    mac: ENC[AES256_GCM,data:AA==,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]\n    unencrypted_suffix: _unencrypted\n    version: 3.11.0\n"
    );
    work.write("enc2.yaml", meta);
    let mut cmd = work.gitseal();
    aws_env(&mut cmd, &closed);
    let started = Instant::now();
    let out = run(cmd.args(["decrypt", "enc2.yaml"]), None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(128), "{err}");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(err.contains(&format!("kms {arn}")), "{err}");
}

/// Where the child test finds the file to open (see below).
const EMBED_FILE: &str = "GITSEAL_TEST_EMBED_FILE";

/// The library, called from inside a multi-threaded tokio runtime (as an async embedder such as
/// the in-cluster unsealer calls it), opens a KMS-wrapped file. Regression: the KMS client
/// blocked on a runtime of its own and panicked there. The call runs in a child process (this
/// test binary, filtered to `library_decrypt_in_runtime_child`), so the AWS variables it needs
/// stay out of this process, whose other tests start commands of their own.
#[test]
fn the_library_decrypts_kms_files_from_inside_a_tokio_runtime() {
    let Some(moto) = Moto::start() else { return };
    let work = Work::new();
    let arn = moto.create_key();
    work.write("plain.yaml", PLAIN);
    let enc = must(gitseal(&work, &moto).args(["encrypt", "--kms", &arn, "plain.yaml"]), None);
    work.write("enc.yaml", enc);
    let mut child = Command::new(std::env::current_exe().expect("the test binary"));
    aws_env(&mut child, &moto.endpoint).env(EMBED_FILE, work.path("enc.yaml"));
    child.args(["--ignored", "--exact", "kms::library_decrypt_in_runtime_child", "--test-threads", "1"]);
    let out = run(&mut child, None);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.contains("1 passed"), "{text}");
}

#[test]
#[ignore = "run by the_library_decrypts_kms_files_from_inside_a_tokio_runtime, in a process of its own"]
fn library_decrypt_in_runtime_child() {
    let Some(path) = std::env::var_os(EMBED_FILE) else { return };
    let bytes = std::fs::read(&path).expect("the encrypted file");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let plain = runtime.block_on(async move {
        let task = tokio::spawn(async move {
            let opened = gitseal::envelope::open(&bytes, gitseal_formats::Format::Yaml, "enc.yaml").unwrap();
            let mut keys = gitseal::keyring::Keyring::new();
            let key = keys.data_key_for(&opened.metadata, &opened.binding(), "enc.yaml").unwrap();
            opened.decrypt(&key, &Default::default()).unwrap().output
        });
        task.await.expect("the decrypting task")
    });
    assert_eq!(String::from_utf8(plain).unwrap(), PLAIN);
}

/// The objects of a moto S3 bucket: (key, bytes), read back with boto3.
fn s3_objects(moto: &Moto, bucket: &str) -> Vec<(String, Vec<u8>)> {
    let py = manifest_dir().join(".peers/venv/bin/python");
    let script = "import boto3, sys, base64\n\
        s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1')\n\
        for o in s3.list_objects_v2(Bucket=sys.argv[2]).get('Contents', []):\n\
        \x20   body = s3.get_object(Bucket=sys.argv[2], Key=o['Key'])['Body'].read()\n\
        \x20   print(o['Key'], base64.b64encode(body).decode())\n";
    let mut cmd = Command::new(py);
    aws_env(&mut cmd, &moto.endpoint);
    let out = String::from_utf8(must(cmd.args(["-c", script, &moto.endpoint, bucket]), None)).unwrap();
    use base64::Engine;
    out.lines()
        .map(|l| {
            let (k, b) = l.split_once(' ').unwrap();
            (k.to_string(), base64::engine::general_purpose::STANDARD.decode(b).unwrap())
        })
        .collect()
}

fn create_bucket(moto: &Moto, bucket: &str) {
    let py = manifest_dir().join(".peers/venv/bin/python");
    let script = "import boto3, sys\n\
        boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1').create_bucket(Bucket=sys.argv[2])\n";
    let mut cmd = Command::new(py);
    aws_env(&mut cmd, &moto.endpoint);
    must(cmd.args(["-c", script, &moto.endpoint, bucket]), None);
}

/// `publish` to S3 (moto): with a reencryption_rule the file is re-encrypted for its keys only
/// (here a KMS key: the age key of the file is gone) and real sops opens the upload; without
/// one the file goes as it is. Nothing is uploaded without --yes and without a terminal, or for
/// a GCS destination.
#[test]
fn publish_uploads_to_s3_re_encrypted_by_the_reencryption_rule() {
    let Some(moto) = Moto::start() else { return };
    let Some(sops_bin) = find_peer("sops") else { return };
    let arn = moto.create_key();
    create_bucket(&moto, "gitseal-pub");
    let work = Work::new();
    work.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - age: {DEMO_RECIPIENT}\ndestination_rules:\n  - path_regex: gcs/\n    gcs_bucket: b\n  - path_regex: plain/\n    s3_bucket: gitseal-pub\n    s3_prefix: as-is/\n  - path_regex: .*\n    s3_bucket: gitseal-pub\n    s3_prefix: prod/\n    reencryption_rule:\n      kms: {arn}\n"
        ),
    );
    work.write("x.yaml", PLAIN);
    let enc = must(gitseal(&work, &moto).args(["encrypt", "x.yaml"]), None);
    work.write("x.enc.yaml", &enc);
    std::fs::create_dir_all(work.path("plain")).unwrap();
    std::fs::create_dir_all(work.path("gcs")).unwrap();
    work.write("plain/x.enc.yaml", &enc);
    work.write("gcs/x.enc.yaml", &enc);
    let with_key = |cmd: &mut Command| {
        cmd.env("SOPS_AGE_KEY_FILE", manifest_dir().join("keys/testdata/demo-age-key.txt"));
    };
    // No terminal, no --yes: refused, nothing uploaded.
    let mut cmd = gitseal(&work, &moto);
    with_key(&mut cmd);
    let out = run(cmd.args(["publish", "x.enc.yaml"]).stdin(Stdio::null()), None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass --yes"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(s3_objects(&moto, "gitseal-pub").is_empty());
    let mut cmd = gitseal(&work, &moto);
    with_key(&mut cmd);
    let out = run(cmd.args(["publish", "--yes", "gcs/x.enc.yaml"]), None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("GCS bucket \"b\", which gitseal does not support"));
    for file in ["x.enc.yaml", "plain/x.enc.yaml"] {
        let mut cmd = gitseal(&work, &moto);
        with_key(&mut cmd);
        must(cmd.args(["publish", "--yes", file]), None);
    }
    let objects = s3_objects(&moto, "gitseal-pub");
    let keys: Vec<&str> = objects.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["as-is/x.enc.yaml", "prod/x.enc.yaml"]);
    assert_eq!(objects[0].1, enc, "without a reencryption_rule the file goes as it is");
    let uploaded = String::from_utf8(objects[1].1.clone()).unwrap();
    assert!(uploaded.contains(&arn) && !uploaded.contains("age1"), "{uploaded}");
    work.write("uploaded.enc.yaml", &uploaded);
    // Real sops opens it with the KMS key alone.
    let plain = must(sops(&work, &sops_bin, &moto).args(["decrypt", "uploaded.enc.yaml"]), None);
    assert_eq!(String::from_utf8(plain).unwrap(), PLAIN);
}
