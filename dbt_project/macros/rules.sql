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

{#- A score rounded to 2 decimals as the forms print it, computed in decimal so that halves round
    up (8.585 → 8.59) as on the forms, not to the nearest binary double. -#}
{% macro score_of(expr) -%}
    cast(round(cast({{ expr }} as decimal(18, 6)), 2) as double)
{%- endmacro %}
