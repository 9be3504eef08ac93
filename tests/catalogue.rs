//! The catalogue describes every sampler option exactly once: each field of a sampler's JSON has
//! an option, each option's default is the sampler's own default and lies in its domain, and each
//! option can be set by name (what the CLI's flags and the page's controls do).

mod common;

use serde_json::{json, Value};

use diffusion_playground::catalogue::{self, Domain, Opt};
use diffusion_playground::process::ProcessConfig;
use diffusion_playground::sampler::SamplerSpec;
use diffusion_playground::score::{Loss, Objective, Slicing};
use diffusion_playground::train::TrainOptions;

fn in_domain(o: &Opt, v: &Value) -> bool {
    match (&o.domain, v) {
        (Domain::Int { min, max }, Value::Number(n)) => n
            .as_u64()
            .is_some_and(|n| (*min..=*max).contains(&(n as f64))),
        (Domain::Num { min, max, .. }, Value::Number(n))
        | (Domain::OptionalNum { min, max }, Value::Number(n)) => {
            (*min..=*max).contains(&n.as_f64().unwrap())
        }
        (Domain::OptionalNum { .. }, Value::Null) => true,
        (Domain::Choice { values }, Value::String(s)) => values.iter().any(|c| c.value == s),
        (Domain::Bool, Value::Bool(_)) => true,
        _ => false,
    }
}

/// A value of the domain other than `v`.
fn another(o: &Opt, v: &Value) -> Value {
    match &o.domain {
        Domain::Int { min, max } => {
            json!(if v == &json!(*max as u64) { *min } else { *max } as u64)
        }
        Domain::Num { min, max, .. } | Domain::OptionalNum { min, max } => {
            json!(if v == &json!(*max) { *min } else { *max })
        }
        Domain::Choice { values } => {
            json!(values.iter().find(|c| json!(c.value) != *v).unwrap().value)
        }
        Domain::Bool => json!(!v.as_bool().unwrap()),
    }
}

#[test]
fn every_sampler_field_has_one_option_with_its_default() {
    let cat = catalogue::catalogue();
    let defaults = SamplerSpec::defaults();
    assert_eq!(cat.samplers.len(), defaults.len());
    for (entry, spec) in cat.samplers.iter().zip(&defaults) {
        assert_eq!(entry.kind, spec.kind());
        assert!(!entry.label.is_empty() && !entry.equation.is_empty() && !entry.cite.is_empty());
        let json = serde_json::to_value(spec).unwrap();
        let fields: Vec<&String> = json
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "kind")
            .collect();
        for field in &fields {
            assert!(
                entry.options.iter().any(|o| o.key == field.as_str()),
                "{}: the field {field} has no option",
                entry.kind
            );
        }
        for o in &entry.options {
            // Optional fields are left out of the JSON while unset.
            let v = json.get(o.key).cloned().unwrap_or(Value::Null);
            assert_eq!(o.default, v, "{}.{}", entry.kind, o.key);
            assert!(
                in_domain(o, &v),
                "{}.{}: default {v} outside its domain",
                entry.kind,
                o.key
            );
            // Set by name, the option changes that field and no other.
            let new = another(o, &v);
            let mut options = serde_json::Map::new();
            options.insert(o.key.into(), new.clone());
            let set = SamplerSpec::with_options(entry.kind, &options).unwrap();
            let set = serde_json::to_value(&set).unwrap();
            assert_eq!(set[o.key], new, "{}.{}", entry.kind, o.key);
            for field in &fields {
                if field.as_str() != o.key {
                    assert_eq!(
                        set[field.as_str()],
                        json[field.as_str()],
                        "{}.{field}",
                        entry.kind
                    );
                }
            }
        }
        let mut bad = serde_json::Map::new();
        bad.insert("warp".into(), json!(1));
        let err = SamplerSpec::with_options(entry.kind, &bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains("has no option 'warp'"), "{err}");
    }
    let names: std::collections::HashSet<_> = cat.samplers.iter().map(|e| e.kind).collect();
    assert_eq!(names.len(), cat.samplers.len(), "sampler names are unique");
}

#[test]
fn processes_and_objectives_are_described_by_their_own_values() {
    let cat = catalogue::catalogue();
    for entry in &cat.processes {
        // The default process of the kind, rebuilt from the options' defaults, is valid.
        let mut v = json!({ "kind": entry.kind });
        for o in &entry.options {
            assert!(in_domain(o, &o.default), "{}.{}", entry.kind, o.key);
            let mut at = &mut v;
            let parts: Vec<&str> = o.key.split('.').collect();
            for p in &parts[..parts.len() - 1] {
                at = at.as_object_mut().unwrap().entry(*p).or_insert(json!({}));
            }
            at[parts[parts.len() - 1]] = o.default.clone();
        }
        let p: ProcessConfig =
            serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"));
        p.validate().unwrap();
        assert!(entry.facts["chain"].is_string() && entry.facts["std"].is_string());
    }
    let kinds: Vec<_> = cat.objectives.iter().map(|e| e.kind).collect();
    let all: Vec<_> = Loss::ALL.iter().map(|o| o.name()).collect();
    assert_eq!(kinds, all);
    // An objective's options are fields of the Objective's JSON, with its defaults; each, set to
    // another value of its domain, still reads as a valid objective.
    for (entry, loss) in cat.objectives.iter().zip(Loss::ALL) {
        let base =
            serde_json::to_value(Objective::noise_free(Loss::Ism).with_slicing(Slicing::default()))
                .unwrap();
        for o in &entry.options {
            let mut v = base.clone();
            v["objective"] = json!(loss.name());
            v["slicing"] = serde_json::to_value(Slicing::default()).unwrap();
            let (group, key) = o.key.split_once('.').unwrap();
            assert_eq!(v[group][key], o.default, "{}.{}", entry.kind, o.key);
            v[group][key] = another(o, &o.default);
            let set: Objective =
                serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"));
            set.validate().unwrap();
            assert_ne!(set.slicing, Slicing::default(), "{}.{}", entry.kind, o.key);
        }
    }
    // Each named data set's shipped model is in the page's folder, trained on that set.
    for set in &cat.datasets {
        let dir = common::repo_path(&format!("www/{}", set.weights));
        let card: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("config.json"))
                .unwrap_or_else(|e| panic!("{}: {e}", set.kind)),
        )
        .unwrap();
        assert!(dir.join("model.safetensors").is_file(), "{}", set.kind);
        assert!(card["train"].is_object(), "{}", set.kind);
    }
    let json: Value = serde_json::from_str(&catalogue::catalogue_json()).unwrap();
    assert_eq!(
        json["samplers"].as_array().unwrap().len(),
        cat.samplers.len()
    );
}

/// The training options are [`TrainOptions`]' fields with its defaults (the CLI's and the page's),
/// each accepted across its domain and refused past it, and each a `dplay train` flag.
#[test]
fn training_options_are_one_set_for_both_faces() {
    let cat = catalogue::catalogue();
    let d = TrainOptions::default();
    let base = serde_json::to_value(d).unwrap();
    let keys: Vec<&str> = cat.training.iter().map(|o| o.key).collect();
    let fields: Vec<&str> = base
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys.iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>(),
        fields.iter().copied().collect(),
        "one option per field"
    );
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_dplay"))
        .args(["train", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    for o in &cat.training {
        assert_eq!(base[o.key], o.default, "{}", o.key);
        assert!(in_domain(o, &o.default), "{}", o.key);
        let mut v = base.clone();
        v[o.key] = another(o, &o.default);
        let set: TrainOptions = serde_json::from_value(v.clone()).unwrap();
        set.validate().unwrap_or_else(|e| panic!("{v}: {e}"));
        assert_ne!(set, d, "{}", o.key);
        let (Domain::Int { max, .. } | Domain::Num { max, .. }) = o.domain else {
            panic!("{} is a number", o.key)
        };
        v[o.key] = json!(max * 2.0);
        if let Ok(set) = serde_json::from_value::<TrainOptions>(v) {
            assert!(set.validate().is_err(), "{} = {}", o.key, max * 2.0);
        }
        let flag = format!("--{}", o.key.replace('_', "-"));
        assert!(help.contains(&flag), "dplay train has no {flag}");
    }
    // A page request names only what it changes; the rest are the defaults the CLI uses.
    let partial: TrainOptions = serde_json::from_str(r#"{"batch_size": 64}"#).unwrap();
    assert_eq!(
        partial,
        TrainOptions {
            batch_size: 64,
            ..d
        }
    );
    assert!(serde_json::from_str::<TrainOptions>(r#"{"batch": 64}"#).is_err());
    let c = d.config(2, Objective::default()).unwrap();
    assert_eq!(
        (c.steps, c.batch_size, c.model.hidden),
        (d.steps, d.batch_size, d.hidden)
    );
    assert_eq!(c.warmup, diffusion_playground::train::warmup_for(d.steps));
}
