# What `cmake --install` and the .deb put where (GNU layout; /usr in the .deb): the two programs
# (app/CMakeLists.txt), the bundled models, sample images and probe class mappings in
# share/vitscope (found relative to the executable: ui/resource_paths.cpp, core/runtime/probes.cpp),
# and with the app its lessons and desktop integration: .desktop entry, icon, AppStream metadata.
set(VITSCOPE_APP_ID org.vitscope.ViTScope)
set(VITSCOPE_DATA_DIR ${CMAKE_INSTALL_DATADIR}/vitscope)

# Samples: the generated test patterns always, the photos when packaging/fetch-samples.sh got them.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/resources/models ${PROJECT_SOURCE_DIR}/resources/probes
                  ${PROJECT_SOURCE_DIR}/resources/samples
        DESTINATION ${VITSCOPE_DATA_DIR})
# Licence and credits where Debian looks for them (/usr/share/doc/vitscope/copyright).
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/vitscope RENAME copyright)
install(FILES ${PROJECT_SOURCE_DIR}/resources/samples/CREDITS.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/vitscope RENAME samples-credits.md)
if(NOT VITSCOPE_BUILD_GUI)
  return()
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/resources/lessons ${PROJECT_SOURCE_DIR}/resources/icons
        DESTINATION ${VITSCOPE_DATA_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/packaging/${VITSCOPE_APP_ID}.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/${VITSCOPE_APP_ID}.metainfo.xml DESTINATION ${CMAKE_INSTALL_DATADIR}/metainfo)
install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/vitscope.svg
        DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps RENAME ${VITSCOPE_APP_ID}.svg)
install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/vitscope.png
        DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/256x256/apps RENAME ${VITSCOPE_APP_ID}.png)
