use super::*;

/// Renders `src` as a chart's only template with `values` (YAML) and the given partials.
fn render_with(src: &str, values: &str, partials: &str) -> Result<String, String> {
    let files = vec![
        (
            "Chart.yaml".to_string(),
            b"apiVersion: v2\nname: demo\nversion: 1.2.3\nappVersion: \"4.5\"\n".to_vec(),
        ),
        ("values.yaml".to_string(), values.as_bytes().to_vec()),
        (
            "templates/_helpers.tpl".to_string(),
            partials.as_bytes().to_vec(),
        ),
        ("templates/t.yaml".to_string(), src.as_bytes().to_vec()),
    ];
    let r = render("demo", &files, &Overrides::default()).map_err(|e| e.to_string())?;
    if let Some(d) = r.diagnostics.first() {
        return Err(d.message.clone());
    }
    Ok(r.files
        .into_iter()
        .next()
        .map(|(_, t)| t)
        .unwrap_or_default())
}

fn r(src: &str, values: &str) -> String {
    match render_with(src, values, "") {
        Ok(s) => s,
        Err(e) => panic!("{src}: {e}"),
    }
}

fn r_err(src: &str, values: &str) -> String {
    render_with(src, values, "").unwrap_err()
}

#[test]
fn text_fields_and_builtin_objects() {
    assert_eq!(
        r(
            "{{ .Release.Name }} {{ .Release.Namespace }} {{ .Release.Service }} {{ .Release.IsInstall }} {{ .Chart.Name }}-{{ .Chart.Version }}-{{ .Chart.AppVersion }} {{ .Values.a.b }} [{{ .Values.missing }}] {{ .Template.Name }}",
            "a: {b: 7}"
        ),
        "release-name default Helm true demo-1.2.3-4.5 7 [] demo/templates/t.yaml"
    );
    assert_eq!(
        r(
            "{{ .Capabilities.KubeVersion.Version }} {{ .Capabilities.KubeVersion.Minor }} {{ .Capabilities.APIVersions.Has \"apps/v1\" }}",
            ""
        ),
        "v1.31.0 31 true"
    );
}

#[test]
fn trim_markers() {
    assert_eq!(
        r("a\n  {{- \"b\" }}\n  c {{- \" d\" -}}\n\n e", ""),
        "ab\n  c de"
    );
    assert_eq!(r("x\n{{- /* gone */ -}}\ny", ""), "xy");
}

#[test]
fn variables_and_scopes() {
    assert_eq!(
        r(
            "{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ $y := 3 }}{{ end }}{{ $x }}",
            ""
        ),
        "2"
    );
    assert!(
        r_err("{{ if true }}{{ $y := 3 }}{{ end }}{{ $y }}", "").contains("undefined variable: $y")
    );
    assert_eq!(
        r(
            "{{ with .Values.a }}{{ $.Chart.Name }}:{{ .b }}{{ end }}",
            "a: {b: 1}"
        ),
        "demo:1"
    );
}

#[test]
fn conditionals() {
    let src = "{{ if eq .Values.n 1 }}one{{ else if gt .Values.n 5 }}big{{ else }}other{{ end }}";
    assert_eq!(r(src, "n: 1"), "one");
    assert_eq!(r(src, "n: 9"), "big");
    assert_eq!(r(src, "n: 3"), "other");
    assert_eq!(
        r(
            "{{ with .Values.x }}{{ . }}{{ else }}none{{ end }}",
            "x: ''"
        ),
        "none"
    );
    assert_eq!(
        r(
            "{{ if and .Values.a (not .Values.b) }}y{{ end }}",
            "a: 1\nb: false"
        ),
        "y"
    );
    assert_eq!(r("{{ or .Values.a .Values.b \"c\" }}", "a: 0\nb: ''"), "c");
    // `and` stops at the first false: the nil field is never read.
    assert_eq!(
        r(
            "{{ if and .Values.a .Values.a.b }}y{{ else }}n{{ end }}",
            ""
        ),
        "n"
    );
}

#[test]
fn ranges() {
    assert_eq!(
        r("{{ range .Values.l }}[{{ . }}]{{ end }}", "l: [a, b]"),
        "[a][b]"
    );
    assert_eq!(
        r(
            "{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}",
            "m: {z: 1, a: 2}"
        ),
        "a=2;z=1;"
    );
    assert_eq!(
        r(
            "{{ range $i, $v := .Values.l }}{{ $i }}{{ $v }}{{ end }}",
            "l: [x, z]"
        ),
        "0x1z"
    );
    assert_eq!(
        r("{{ range .Values.l }}x{{ else }}empty{{ end }}", "l: []"),
        "empty"
    );
    assert_eq!(
        r(
            "{{ range until 5 }}{{ if eq . 3 }}{{ break }}{{ end }}{{ if eq . 1 }}{{ continue }}{{ end }}{{ . }}{{ end }}",
            ""
        ),
        "02"
    );
}

#[test]
fn pipelines_and_parentheses() {
    assert_eq!(r("{{ .Values.s | upper | quote }}", "s: ab"), "\"AB\"");
    assert_eq!(r("{{ (printf \"%s-%d\" \"a\" 3) | upper }}", ""), "A-3");
    assert_eq!(r("{{ (dict \"k\" \"v\").k }}", ""), "v");
    assert_eq!(
        r("{{ .Values.tag | default .Chart.AppVersion }}", ""),
        "4.5"
    );
    assert_eq!(
        r(
            "{{ toYaml .Values.r | nindent 2 }}",
            "r: {cpu: 1, memory: 2Gi}"
        ),
        "\n  cpu: 1\n  memory: 2Gi"
    );
    assert_eq!(r("{{ .Values.l | toJson }}", "l: [1, \"a\"]"), "[1,\"a\"]");
    assert_eq!(r("{{ len .Values.l }}", "l: [1, 2]"), "2");
    assert_eq!(r("{{ index .Values.l 1 }}", "l: [1, 2]"), "2");
}

#[test]
fn define_template_include_and_tpl() {
    let partials = "{{- define \"demo.name\" -}}{{ .Chart.Name }}-x{{- end -}}\n{{ define \"demo.arg\" }}<{{ . }}>{{ end }}";
    let out = render_with(
        "{{ include \"demo.name\" . }} {{ template \"demo.arg\" \"t\" }} {{ include \"demo.arg\" \"i\" | upper }} {{ tpl .Values.t . }}",
        "t: '{{ .Release.Name }}'",
        partials,
    )
    .unwrap();
    assert_eq!(out, "demo-x <t> <I> release-name");
    let e = render_with("{{ include \"nope\" . }}", "", "").unwrap_err();
    assert!(e.contains("no template \"nope\""), "{e}");
}

#[test]
fn recursion_is_bounded() {
    let e = render_with(
        "{{ include \"loop\" . }}",
        "",
        "{{ define \"loop\" }}{{ include \"loop\" . }}{{ end }}",
    )
    .unwrap_err();
    assert!(e.contains("nested deeper than"), "{e}");
    let e = r_err("{{ range until 100000000 }}x{{ end }}", "");
    assert!(e.contains("too many"), "{e}");
    let e = r_err(
        "{{ $s := \"ab\" }}{{ range until 40 }}{{ $s = printf \"%s%s\" $s $s }}{{ end }}",
        "",
    );
    assert!(e.contains("over"), "{e}");
}

#[test]
fn errors_name_what_failed() {
    assert_eq!(
        r_err(
            "{{ required \"image.tag is required\" .Values.image.tag }}",
            "image: {}"
        ),
        "template not rendered: demo/templates/t.yaml:1: image.tag is required: skipped"
    );
    assert!(r_err("{{ .Values.a.b }}", "").contains("nil pointer evaluating interface {}.b"));
    // The template and line where it failed, inside an included template.
    let e = render_with(
        "x\n\n{{ include \"h\" . }}",
        "",
        "{{ define \"h\" }}\n{{ .Values.a.b }}{{ end }}",
    )
    .unwrap_err();
    assert!(
        e.contains("demo/templates/_helpers.tpl:2: nil pointer"),
        "{e}"
    );
    assert!(r_err("{{ fail \"stop\" }}", "").contains("stop"));
    assert!(r_err("{{ genCA \"x\" 3 }}", "").contains("function \"genCA\" not defined"));
    assert!(r_err("{{ if }}", "").contains("missing value"));
}

#[test]
fn values_files_and_set_merge_in_helms_order() {
    let files = vec![
        (
            "Chart.yaml".to_string(),
            b"name: demo\nversion: 1.0.0\n".to_vec(),
        ),
        (
            "values.yaml".to_string(),
            b"a: {b: 1, c: 2, d: 3}\nl: [x]\n".to_vec(),
        ),
        (
            "templates/t.yaml".to_string(),
            b"{{ toJson .Values }}".to_vec(),
        ),
    ];
    let o = Overrides {
        values: vec![("v.yaml".into(), b"a: {b: 10, d: null}\n".to_vec())],
        set: vec![
            "a.c=20,e.f=true".into(),
            "l={p,q}".into(),
            "m[1].n=0123".into(),
        ],
    };
    let out = render("demo", &files, &o).unwrap();
    assert_eq!(
        out.files,
        [(
            "templates/t.yaml".to_string(),
            r#"{"a":{"b":10,"c":20},"e":{"f":true},"l":["p","q"],"m":[null,{"n":"0123"}]}"#
                .to_string()
        )]
    );
    assert!(matches!(
        render(
            "demo",
            &files,
            &Overrides {
                set: vec!["novalue".into()],
                ..Default::default()
            }
        ),
        Err(ChartError::Set { .. })
    ));
    assert!(matches!(
        render("demo", &files, &Overrides { values: vec![("bad.yaml".into(), b"[1".to_vec())], ..Default::default() }),
        Err(ChartError::Values { file, .. }) if file == "bad.yaml"
    ));
}

#[test]
fn partials_notes_and_subcharts() {
    let files = vec![
        (
            "Chart.yaml".to_string(),
            b"name: demo\nversion: 1.0.0\n".to_vec(),
        ),
        (
            "templates/NOTES.txt".to_string(),
            b"{{ .Release.Name }}".to_vec(),
        ),
        (
            "templates/_x.tpl".to_string(),
            b"{{ define \"x\" }}y{{ end }}".to_vec(),
        ),
        (
            "templates/empty.yaml".to_string(),
            b"{{ if false }}a: 1{{ end }}\n".to_vec(),
        ),
        ("templates/broken.yaml".to_string(), b"{{ if }}".to_vec()),
        ("charts/sub/Chart.yaml".to_string(), b"name: sub\n".to_vec()),
    ];
    let out = render("c", &files, &Overrides::default()).unwrap();
    assert!(out.files.is_empty(), "{:?}", out.files);
    let d: Vec<String> = out
        .diagnostics
        .iter()
        .map(|d| format!("{} {}", d.path.clone().unwrap_or_default(), d.message))
        .collect();
    assert_eq!(d.len(), 2, "{d:?}");
    assert!(
        d[0].starts_with("c/charts subcharts under charts/ are not rendered"),
        "{d:?}"
    );
    assert!(
        d[1].starts_with("c/templates/broken.yaml template does not parse"),
        "{d:?}"
    );
}

#[test]
fn hostile_nesting_is_bounded() {
    // Nested blocks inside a recursive template: the block count across templates stops it.
    let body = format!(
        "{}{{{{ include \"deep\" . }}}}{}",
        "{{ if true }}".repeat(90),
        "{{ end }}".repeat(90)
    );
    let partials = format!("{{{{ define \"deep\" }}}}{body}{{{{ end }}}}");
    let e = render_with("{{ include \"deep\" . }}", "", &partials).unwrap_err();
    assert!(e.contains("nested deeper than"), "{e}");
    // Values nested by a loop, and a map holding itself.
    let e = r_err(
        "{{ $x := list }}{{ range until 1000 }}{{ $x = list $x }}{{ end }}{{ len $x }}",
        "",
    );
    assert!(e.contains("values nested deeper than"), "{e}");
    let out = r(
        "{{ $d := dict }}{{ $_ := set $d \"self\" $d }}{{ toJson $d | len | lt 10 }} {{ toYaml $d | len | lt 10 }} {{ eq (len $d) 1 }}",
        "",
    );
    assert_eq!(out, "true true true");
    let e = r_err(
        "{{ $d := dict }}{{ $_ := set $d \"self\" $d }}{{ list $d }}",
        "",
    );
    assert!(e.contains("values nested deeper than"), "{e}");
}

#[test]
fn joining_many_copies_of_a_large_string_is_bounded() {
    let big = "{{ $s := repeat 4000000 \"x\" }}{{ $l := list }}{{ range until 100 }}{{ $l = append $l $s }}{{ end }}";
    for f in ["join \",\" $l", "cat $l $l", "quote $s $s $s", "print $l"] {
        let e = r_err(&format!("{big}{{{{ {f} }}}}"), "");
        assert!(e.contains("over"), "{f}: {e}");
    }
    // toStrings shares strings; the texts of lists are what it makes.
    let nested = format!(
        "{big}{{{{ $m := list }}}}{{{{ range until 100 }}}}{{{{ $m = append $m $l }}}}{{{{ end }}}}{{{{ toStrings $m | len }}}}"
    );
    assert!(r_err(&nested, "").contains("over"));
    let e = r_err(
        "{{ regexReplaceAll \"\" (repeat 100000 \"x\") (repeat 1000 \"y\") }}",
        "",
    );
    assert!(e.contains("over"), "{e}");
}
