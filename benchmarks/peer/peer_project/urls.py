from django.http import JsonResponse
from django.urls import include, path
from oauth2_provider.decorators import protected_resource


@protected_resource(scopes=["read"])
def resource(request):
    """The toolkit's protected-resource path: validate the bearer token, answer small JSON."""
    return JsonResponse({"object": "resource", "user": request.resource_owner.pk})


urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("api/resource", resource),
]
