//! The SealedSecret CustomResourceDefinition: upstream's schema (`bitnami.com/v1alpha1`,
//! printer columns, status subresource) plus the optional `status.keyFingerprint`. Printed by
//! `gitseal-unsealer crd`; `deploy/controller/crd.yaml` is a copy that a test keeps identical.

/// The CRD as YAML.
pub const YAML: &str = include_str!("crd.yaml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deploy_copy_is_identical() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/controller/crd.yaml");
        let deployed = std::fs::read_to_string(path).unwrap();
        assert!(deployed == YAML, "deploy/controller/crd.yaml differs from unsealer/src/crd.yaml: copy it over");
    }

    #[test]
    fn schema_has_what_the_controller_writes() {
        for needle in [
            "group: bitnami.com",
            "kind: SealedSecret",
            "plural: sealedsecrets",
            "name: v1alpha1",
            "status: {}",
            "observedGeneration:",
            "lastTransitionTime:",
            "lastUpdateTime:",
            "keyFingerprint:",
            "encryptedData:",
            "jsonPath: .status.conditions[0].message",
        ] {
            assert!(YAML.contains(needle), "the CRD lacks {needle}");
        }
    }
}
