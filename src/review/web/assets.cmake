# The review UI (HTML, CSS, JS under src/review/web) built into kestrel_core as a
# generated C table; rebuilt whenever one of the files changes.
set(KS_REVIEW_WEB ${CMAKE_SOURCE_DIR}/src/review/web/login.html
                  ${CMAKE_SOURCE_DIR}/src/review/web/login.js
                  ${CMAKE_SOURCE_DIR}/src/review/web/app.html
                  ${CMAKE_SOURCE_DIR}/src/review/web/app.js
                  ${CMAKE_SOURCE_DIR}/src/review/web/style.css
                  ${CMAKE_SOURCE_DIR}/src/review/web/favicon.svg)
set(KS_REVIEW_ASSETS_C ${CMAKE_BINARY_DIR}/review_assets.c)
add_custom_command(
  OUTPUT ${KS_REVIEW_ASSETS_C}
  COMMAND ${CMAKE_COMMAND} -DOUT=${KS_REVIEW_ASSETS_C} -DSRC=${CMAKE_SOURCE_DIR}
          "-DFILES=${KS_REVIEW_WEB}" -P ${CMAKE_SOURCE_DIR}/src/review/web/embed.cmake
  DEPENDS ${KS_REVIEW_WEB} ${CMAKE_SOURCE_DIR}/src/review/web/embed.cmake
  COMMENT "Embedding the review web UI"
  VERBATIM)
target_sources(kestrel_core PRIVATE ${KS_REVIEW_ASSETS_C})
