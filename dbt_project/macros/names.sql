{#- District (区) and city (市) of a Shanghai-style organisation name, e.g.
    上海市嘉定区人力资源和社会保障局 → city 上海市, district 嘉定区. The district is the first 1-4
    characters ending in 区 right after the (optional) city/province prefix; NULL when the name does
    not start that way (a city-level body). -#}

{% macro district_of(expr) -%}
    nullif(regexp_extract({{ expr }}, '^(?:[^市省区]{1,6}[省市])?([^市省区]{1,4}区)', 1), '')
{%- endmacro %}

{% macro city_of(expr) -%}
    nullif(regexp_extract({{ expr }}, '^([^市省区]{1,6}市)', 1), '')
{%- endmacro %}
