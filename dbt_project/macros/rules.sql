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

{#- A sum, difference, product, quotient or average of values of `kinds` rounded to their decimals
    (var `decimals`): the one place a computed amount, percentage, score or ratio is rounded.
    Never applied to a value read from the form (exact as printed). Rounded in decimal, after
    dropping the binary noise below ROUNDING_GUARD more decimals, so that a half rounds up (8.585 →
    8.59, as the forms round) whatever the double's last bits: an average of the same values
    summed in another row order is 1.02500000000000016 or 1.02499999999999984, and must give
    1.03 both times. -#}
{% macro rounded(expr, kinds) -%}
    {%- set places = decimals(kinds) -%}
    cast(round(cast({{ expr }} as decimal(38, {{ places + rounding_guard() }})), {{ places }}) as double)
{%- endmacro %}

{#- Decimals beyond a value's own that `rounded` keeps before it rounds: the noise of a double sits
    ≈ 16 significant digits down, far below them, and a value computed from printed decimals has
    nothing real there. -#}
{% macro rounding_guard() -%}
    {{- return(4) -}}
{%- endmacro %}
