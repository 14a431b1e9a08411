//! Criterion benchmarks of the envelope: encrypt and decrypt of generated YAML, JSON and dotenv
//! files through the library (no process start-up, no disk). `benches/compare/run.sh` times the
//! binaries against sops and rops.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gitseal::envelope::{self, DecryptOptions, EncryptOptions};
use gitseal::keyring::Keyring;
use gitseal_formats::Format;
use gitseal_keys::age::{Identities, Recipient};
use gitseal_keys::MasterKey;

const DEMO_KEY: &str = include_str!("../keys/testdata/demo-age-key.txt");
const DEMO_RECIPIENT: &str = "age1sv4edj3t7tzg9cmf4c0325u5yntlhs9smnqkxajq5xsrs09tlfqq60yt0d";

/// A nested YAML file with `services * 14` values (comments, lists, several scalar types).
fn nested_yaml(services: usize) -> String {
    let mut s = String::from("# generated benchmark input\nservices:\n");
    for i in 0..services {
        s.push_str(&format!(
            "  svc{i}:\n    image: registry.example.com/team/svc{i}:1.{i}.0\n    replicas: {r}\n    ratio: 0.{r}5\n    enabled: true\n    # credentials\n    env:\n      DB_USER: user{i}\n      DB_PASSWORD: \"p4ss-{i}-abcdefghijklmnop\"\n      API_TOKEN: tok_{i}_0123456789abcdef0123456789abcdef\n    ports:\n      - 80{r}\n      - 90{r}\n    labels:\n      app: svc{i}\n      tier: backend\n      owner_unencrypted: team-{r}\n",
            r = i % 10
        ));
    }
    s
}

fn flat_yaml(keys: usize) -> String {
    (0..keys).map(|i| format!("key_{i}: value-{i}-abcdefghijklmnopqrstuvwxyz\n")).collect()
}

fn json(keys: usize) -> String {
    let body: Vec<String> = (0..keys)
        .map(|i| format!("\t\"k{i}\": {{\n\t\t\"name\": \"n{i}\",\n\t\t\"n\": {i},\n\t\t\"on\": true\n\t}}"))
        .collect();
    format!("{{\n{}\n}}\n", body.join(",\n"))
}

fn bench_format(c: &mut Criterion, name: &str, format: Format, input: &str) {
    let opts = EncryptOptions {
        rule: None,
        mac_only_encrypted: false,
        key_groups: vec![vec![MasterKey::Age(Recipient::parse(DEMO_RECIPIENT).unwrap())]],
        shamir_threshold: None,
        indent: None,
    };
    let encrypted = envelope::encrypt(input.as_bytes(), format, format, &opts, name).unwrap();
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.sample_size(10);
    group.bench_function("encrypt", |b| {
        b.iter(|| envelope::encrypt(input.as_bytes(), format, format, &opts, name).unwrap())
    });
    group.bench_function("decrypt", |b| {
        b.iter(|| {
            let opened = envelope::open(&encrypted, format, name).unwrap();
            let mut keyring = Keyring::with_age(Identities::from_text(DEMO_KEY, "demo").unwrap());
            let key = keyring.data_key(&opened.metadata, name).unwrap();
            opened.decrypt(&key, &DecryptOptions::default()).unwrap()
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench_format(c, "yaml-nested-56k", Format::Yaml, &nested_yaml(4000));
    bench_format(c, "yaml-flat-20k", Format::Yaml, &flat_yaml(20_000));
    bench_format(c, "yaml-flat-50k", Format::Yaml, &flat_yaml(50_000));
    bench_format(c, "json-2mb", Format::Json, &json(30_000));
    bench_format(c, "yaml-4-lines", Format::Yaml, "a: 1\nb: two\nc: true\nd: 0.5\n");
}

criterion_group!(envelope_benches, benches);
criterion_main!(envelope_benches);
