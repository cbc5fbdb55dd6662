{#- The rules of the marts, each read from its one home (dbt_project.yml vars). -#}

{#- Float noise allowed beyond every tolerance: the values are parsed from printed decimals, so
    only binary rounding separates equal numbers (extract.validate allows the same). -#}
{% macro float_noise() -%}
    1e-9
{%- endmacro %}

{#- A difference within a tolerance (same unit). -#}
{% macro within_tolerance(difference, tolerance) -%}
    (abs({{ difference }}) <= {{ tolerance }} + {{ float_noise() }})
{%- endmacro %}

{#- The value of a convention var, refused at compile time unless it is one of `allowed`. -#}
{% macro convention(name, allowed) -%}
    {%- set value = var(name) -%}
    {%- if value not in allowed -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " = " ~ value ~ ": expected one of " ~ allowed | join(", ")) }}
    {%- endif -%}
    {{- return(value) -}}
{%- endmacro %}

{#- The decimals (var `decimals`) of a computed value of `kinds` (one kind, or a list of kinds
    whose values are mixed: the finest of them), refused at compile time for an unknown kind. -#}
{% macro decimals(kinds) -%}
    {%- set known = var('decimals') -%}
    {%- set found = [] -%}
    {%- for kind in ([kinds] if kinds is string else kinds) -%}
        {%- if kind not in known -%}
            {{ exceptions.raise_compiler_error("decimals of " ~ kind ~ ": expected one of " ~ known | list | join(", ")) }}
        {%- endif -%}
        {%- do found.append(known[kind]) -%}
    {%- endfor -%}
    {{- return(found | max) -}}
{%- endmacro %}

{#- A sum, difference or quotient of values of `kinds` rounded to their decimals (var `decimals`):
    the one place a computed amount, percentage, score or ratio is rounded. Never applied to a
    value read from the form (exact as printed). -#}
{% macro rounded(expr, kinds) -%}
    round({{ expr }}, {{ decimals(kinds) }})
{%- endmacro %}

{#- A score computed by a rule (a product such as 分值 × 执行率 / 100) rounded to the decimals of
    scores as the forms print it, in decimal so that halves round up (8.585 → 8.59) as on the
    forms, not to the nearest binary double. -#}
{% macro score_of(expr) -%}
    cast(round(cast({{ expr }} as decimal(18, 6)), {{ decimals('score') }}) as double)
{%- endmacro %}
