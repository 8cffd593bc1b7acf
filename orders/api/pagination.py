from rest_framework.pagination import CursorPagination


class NewestFirst(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_paginated_response_schema(self, schema):
        # DRF's example links point at api.example.org/accounts/ (one with a stray quote): the
        # schema's list examples show a single page instead, with no links.
        out = super().get_paginated_response_schema(schema)
        out["properties"]["next"]["example"] = None
        out["properties"]["previous"]["example"] = None
        return out


class OldestFirst(NewestFirst):
    ordering = "id"
