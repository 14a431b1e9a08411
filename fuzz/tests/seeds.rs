//! Writes the seed inputs the kept corpora were minimized from (`scripts/fuzz --seed` is not a
//! thing: run `GITSEAL_FUZZ_SEEDS=DIR cargo test --manifest-path fuzz/Cargo.toml --test seeds --
//! --ignored`, then `cargo fuzz cmin` each `DIR/<target>` into `corpus/<target>`).
//!
//! Sources: the repository's fixtures, examples and real-world corpus, files encrypted from them
//! with the demo age key, SealedSecrets sealed to the test sealing key, the test key files, and
//! a few hand-written configs, templates and `ENC[...]` values.

use std::path::{Path, PathBuf};

use gitseal::cipher::{Cipher, ValueType};
use gitseal::envelope;
use gitseal::formats::Format;
use gitseal::keys::age::Recipient;
use gitseal::keys::sealing::SealingKey;
use gitseal::keys::DataKey;
use gitseal::sealed::manifest::{self, OutputFormat};
use gitseal::sealed::seal::{seal_secret, SealOptions};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("fuzz/ is inside the repository").to_path_buf()
}

/// Every file under `dir` (recursively), sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries {
        let path = e.expect("readable directory").path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The codec of a file, by name (dotenv and INI by their usual suffixes).
fn format_of(path: &Path) -> Option<Format> {
    let name = path.file_name()?.to_str()?;
    let ext = name.rsplit('.').next()?;
    Some(match ext {
        "yaml" | "yml" => Format::Yaml,
        "json" => Format::Json,
        "toml" => Format::Toml,
        "ini" | "cfg" => Format::Ini,
        "env" | "example" => Format::Dotenv,
        _ if name.starts_with(".env") => Format::Dotenv,
        _ => return None,
    })
}

fn target_of(format: Format) -> &'static str {
    match format {
        Format::Yaml => "yaml",
        Format::Json => "json",
        Format::Toml => "toml",
        Format::Ini => "ini",
        Format::Dotenv => "dotenv",
        Format::Binary => "binary",
    }
}

struct Seeds {
    root: PathBuf,
    count: usize,
}

impl Seeds {
    fn add(&mut self, target: &str, name: &str, data: &[u8]) {
        let dir = self.root.join(target);
        std::fs::create_dir_all(&dir).expect("seed directory");
        let name: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' }).collect();
        std::fs::write(dir.join(format!("{:04}-{name}", self.count)), data).expect("seed written");
        self.count += 1;
    }
}

#[test]
#[ignore = "writes seed files: GITSEAL_FUZZ_SEEDS=DIR cargo test --test seeds -- --ignored"]
fn write_seeds() {
    let root = PathBuf::from(std::env::var_os("GITSEAL_FUZZ_SEEDS").expect("GITSEAL_FUZZ_SEEDS=DIR"));
    let mut seeds = Seeds { root, count: 0 };
    codec_and_metadata(&mut seeds);
    enc_values(&mut seeds);
    configs(&mut seeds);
    sealed(&mut seeds);
    key_files(&mut seeds);
}

/// The largest source file taken as a seed (an encrypted file is about three times larger).
const MAX_SEED: usize = 8 * 1024;

fn codec_and_metadata(seeds: &mut Seeds) {
    let opts = gitseal_fuzz::demo_encrypt_options();
    let repo = repo();
    let sources = [
        repo.join("tests/fixtures"),
        repo.join("examples"),
        repo.join("formats/tests/corpus"),
        repo.join("formats/tests/spellings"),
        PathBuf::from("/work/shared/realworld"),
    ];
    for path in sources.iter().flat_map(|d| files(d)) {
        let Some(format) = format_of(&path) else { continue };
        let data = std::fs::read(&path).unwrap();
        // Large inputs make slow fuzzing and a large corpus; the codec tests read them whole.
        if data.len() > MAX_SEED {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        seeds.add(target_of(format), &name, &data);
        if format == Format::Yaml {
            seeds.add("sealed_manifest", &name, &data);
        }
        if data.len() > MAX_SEED / 4 {
            continue;
        }
        match envelope::encrypt(&data, format, format, &opts, &name) {
            Ok(sealed) => seeds.add("metadata", &name, &sealed),
            // Already encrypted (the examples): a seed as it is.
            Err(_) => seeds.add("metadata", &name, &data),
        }
    }
    let binary = envelope::encrypt(b"\x00\x01binary\xff", Format::Binary, Format::Binary, &opts, "b.bin").unwrap();
    seeds.add("metadata", "binary.json", &binary);
}

fn enc_values(seeds: &mut Seeds) {
    let c = Cipher::new(&DataKey::from_slice(&gitseal_fuzz::ENC_VALUE_KEY).unwrap());
    let types = [ValueType::Str, ValueType::Int, ValueType::Float, ValueType::Bool, ValueType::Time];
    let plains: [&[u8]; 5] = [b"", b"hunter2", b"42", b"True", b"2026-01-01T00:00:00Z"];
    for (ty, plain) in types.into_iter().zip(plains) {
        seeds.add("enc_value", "value", c.encrypt_with_iv(plain, "", ty, &[3; 32]).as_bytes());
    }
    seeds.add("enc_value", "comment", c.encrypt(b" a comment", "", ValueType::Comment).as_bytes());
    seeds.add("enc_value", "bad", b"ENC[AES256_GCM,data:,iv:,tag:,type:str]");
    seeds.add(
        "enc_value",
        "short-iv",
        b"ENC[AES256_GCM,data:AAAA,iv:AAAAAAAAAAAAAAAA,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:bytes]",
    );
}

fn configs(seeds: &mut Seeds) {
    let r = gitseal_fuzz::DEMO_RECIPIENT;
    let configs = [
        format!("creation_rules:\n  - path_regex: prod\n    age: age1other\n  - path_regex: \\.yaml$\n    age: '{r}'\n"),
        format!("keys:\n  - &me {r}\ncreation_rules:\n  - age: *me\n    reencryption_rule: {{}}\nstores:\n  yaml:\n    indent: 2\n"),
        format!("creation_rules:\n  - path_regex: ^secrets/.*\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    key_groups:\n      - age:\n          - {r}\n        pgp:\n          - FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4\n      - kms:\n          - arn: arn:aws:kms:us-east-1:111122223333:key/abc\n            role: arn:aws:iam::111122223333:role/r\n            context: {{app: x}}\n    shamir_threshold: 2\n"),
        "creation_rules:\n  - path_regex: '('\n    age: x\n".to_string(),
        "creation_rules:\n  - shamir_threshold: two\n".to_string(),
        format!("destination_rules:\n  - s3_bucket: b\n    path_regex: s3/*\n    recreation_rule:\n      age: {r}\n  - vault_path: secret/\n    vault_address: http://127.0.0.1:8200\n    vault_kv_mount_name: secret/\n    vault_kv_version: 2\n    path_regex: vault/*\n"),
        "creation_rules:\n  - kms: 'arn:aws:kms:us-east-1:1:key/a+arn:aws:iam::1:role/r,arn:aws:kms:eu-west-1:1:key/b'\n    aws_profile: dev\n    hc_vault_transit_uri: https://vault.example.com:8200/v1/sops/keys/firstkey\n    unencrypted_suffix: _plain\n    mac_only_encrypted: true\n    gcp_kms: projects/p/locations/l/keyRings/r/cryptoKeys/k\n".to_string(),
        "stores:\n  json:\n    indent: 4\n  json_binary: {indent: 2}\n  yaml: {indent: 8}\n  unknown: 1\n".to_string(),
        "creation_rules: [\n".to_string(),
        "# empty\n".to_string(),
    ];
    for (i, c) in configs.iter().enumerate() {
        seeds.add("config", &format!("sops{i}.yaml"), c.as_bytes());
    }
}

fn sealed(seeds: &mut Seeds) {
    let key = SealingKey::from_pem(gitseal_fuzz::SEALING_KEY).unwrap().remove(0);
    let secrets = [
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod}\nstringData: {password: hunter2, user: admin}\n",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tpl\n  namespace: prod\n  annotations: {sealedsecrets.bitnami.com/namespace-wide: 'true'}\n  labels: {app: x}\ntype: kubernetes.io/dockerconfigjson\ndata: {a: aHVudGVyMg==}\nstringData: {b: c}\n",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: cw, annotations: {sealedsecrets.bitnami.com/cluster-wide: 'true'}}\nstringData: {k: v}\n",
    ];
    for (i, s) in secrets.iter().enumerate() {
        let secret = manifest::parse_stream(s).unwrap().remove(0);
        let opts =
            SealOptions { key: key.public_key(), scope: None, name: None, namespace: None, allow_empty_data: false };
        let mut sealed = seal_secret(&secret, 0, &opts).unwrap();
        if i == 0 {
            let data = gitseal::formats::Value::Map(vec![(
                "dsn".into(),
                gitseal::formats::Value::str(
                    "postgres://{{ .user }}:{{ .password | urlquery }}@db/{{ index . \"user\" | upper }}",
                ),
            )]);
            let template = gitseal::sealed::map_mut(gitseal::sealed::map_mut(&mut sealed, "spec"), "template");
            gitseal::sealed::set(template, "data", data);
        }
        for out in [OutputFormat::Yaml, OutputFormat::Json] {
            seeds.add(
                "sealed_manifest",
                &format!("sealed{i}"),
                manifest::emit(&[sealed.clone()], out).unwrap().as_bytes(),
            );
        }
        seeds.add("sealed_manifest", &format!("secret{i}"), s.as_bytes());
    }
    seeds.add("sealed_manifest", "list", b"apiVersion: v1\nkind: List\nitems:\n- apiVersion: bitnami.com/v1alpha1\n  kind: SealedSecret\n  metadata: {name: a, namespace: b}\n  spec: {encryptedData: {x: AgAAAA==}, template: {data: {y: '{{ .x }}'}}}\n");
    let templates = [
        "{{ .password }}",
        "{{- toJson . -}}",
        "{{ printf \"%s:%q %d %v %%\" .username .password 3 true }}",
        "{{/* note */}}{{ .config.json | b64enc | b64dec | quote | squote | upper | lower }}",
        "{{ index . \"config.json\" | trim | trimAll \"{}\" | trimPrefix \"a\" | trimSuffix \"]\" | replace \"1\" \"2\" }}",
        "{{ .missing | default \"x\" }} {{ empty .empty }} {{ len .binary }} {{ cat .username `raw` nil }}",
        "{{ .username | indent 4 | nindent 2 }}{{ contains \"dm\" .username }}{{ hasPrefix \"a\" .username }}{{ hasSuffix \"n\" .username }}{{ sha256sum .password }}{{ toString 12 }}{{ (print .binary) }}",
        "{{ if .x }}no{{ end }}{{ $x := 1 }}",
        "text {{ \"\\u00e9\\n\\x41\" }} {{",
    ];
    for t in templates {
        seeds.add("sealed_template", "template", t.as_bytes());
    }
}

fn key_files(seeds: &mut Seeds) {
    use base64::Engine;
    for path in files(&repo().join("keys/testdata")) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(&path).unwrap();
        if name.ends_with(".pem") {
            seeds.add("pem", &name, &data);
            let text = String::from_utf8(data).unwrap();
            let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
            seeds.add("pem", &format!("{name}.der"), &base64::engine::general_purpose::STANDARD.decode(body).unwrap());
        } else if name.ends_with(".txt") {
            seeds.add("age_identity", &name, &data);
        }
    }
    let secret_backup = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: sealed-secrets-key}}\ndata:\n  tls.key: {}\n",
        base64::engine::general_purpose::STANDARD.encode(gitseal_fuzz::SEALING_KEY)
    );
    seeds.add("pem", "backup.yaml", secret_backup.as_bytes());
    let r = Recipient::parse(gitseal_fuzz::DEMO_RECIPIENT).unwrap();
    seeds.add("age_identity", "armored", r.wrap(&[1; 32]).unwrap().as_bytes());
    let ids = [
        "AGE-PLUGIN-YUBIKEY-1QXZ9JQ5QKVPW5\n",
        "age1sv4edj3t7tzg9cmf4c0325u5yntlhs9smnqkxajq5xsrs09tlfqq60yt0d,age1yubikey1qxz9jq5qkvpw5\n",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN alice@rust\n",
        "AGE-SECRET-KEY-PQ-1XXXX\n# comment\n\n",
        "age-encryption.org/v1\n-> scrypt c2FsdHNhbHRzYWx0c2FsdA 18\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n\0\0\0\0",
    ];
    for id in ids {
        seeds.add("age_identity", "id", id.as_bytes());
    }
}
